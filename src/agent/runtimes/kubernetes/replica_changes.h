// Which replica of a service on Kubernetes may serve, and the replicas
// added to and dropped from a running service: the decisions alone (pure),
// which the runtime takes on its applying thread each round and acts on.
//
// Every ClickHouse pod has a readiness gate (render/kubernetes
// kServingCondition): it is Ready — in the Service the endpoint sends to,
// counted by its StatefulSet and its PDB — only once the runtime has set
// that condition True. The runtime sets it
//  - for a pod with another replica of its shard serving: once the pod has
//    every table that replica has (replicas/schema_copy.h copies what it
//    lacks) and has caught up with it (queue empty, log read, as many rows).
//    This is also the health gate of a rollout's step: a replaced pod serves
//    again only caught up;
//  - for a pod with no other replica of its shard serving (a new service,
//    or every replica of the shard restarted): as soon as it answers — but
//    never for a joining one, which has nothing until it gets it from another.
//
// A replica added to a running service (a new ordinal) joins: it is out of
// every replica's cluster (remote_servers) until it first serves.
//
// A dropped replica leaves: its StatefulSet keeps it (held_replicas) while
// it is drained. Its condition goes False at once (the endpoint stops
// sending to it) and it is out of the cluster. At least kLeaveLingerSeconds
// later, once no replica that stays lists it in its cluster any more (the
// kubelet projects their changed config a minute or more later, and
// Distributed queries reach it until they reload it), it has no
// Distributed insert left to send, and every replica that stays has caught
// up with it (nothing written to it alone is lost), its tables are
// dropped — which deletes its replica nodes in ZooKeeper, so the others
// stop keeping their replication log for it. Then the StatefulSet lets it
// go, and once its pod is gone its volume claim is deleted. One that was
// still joining (it never served) goes without the wait, and as it is when
// it doesn't answer (a pod never scheduled). One added back before it went
// starts over as a joining replica once its tables were being dropped, or
// else simply serves again once caught up.
//
// Each decision is idempotent and what it acts on is recorded first
// (<root>/<service>/replicas.json), so a kill -9 anywhere converges.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace byoc::agent::kube_runtime {

// A leaving replica is out of every cluster this long before its tables go.
inline constexpr int64_t kLeaveLingerSeconds = 150;
// A replica joining, or leaving and not answering, longer than this makes
// the service report scale_failed (the others serve; it keeps trying).
inline constexpr int64_t kScaleBoundSeconds = 600;

struct LeavingReplica {
  int shard = 0;
  int ordinal = 0;
  int64_t since = 0;          // Unix seconds it was dropped
  bool never_served = false;  // it was still joining: nothing was written to it alone
  bool dropping = false;      // recorded before its first table is dropped: it may have lost some
  bool dropped = false;       // its tables are gone (or it never had any): the StatefulSet may let it go
  bool operator==(const LeavingReplica&) const = default;
};

struct ReplicaChanges {
  std::map<std::string, int64_t> joining;         // pod → when it was added (Unix seconds)
  std::map<std::string, LeavingReplica> leaving;  // pod → its removal
  bool empty() const { return joining.empty() && leaving.empty(); }
  bool operator==(const ReplicaChanges&) const = default;
};

// The service of `shards` shards went from `was` replicas per shard (0: it
// is new) to `now`, at `at`: new ordinals join (not in a new service: they
// all start empty), dropped ones leave, and one added back while it
// leaves joins again once its tables were being dropped (else it just stays).
void note_replicas(ReplicaChanges& changes, const std::string& service, int shards, int was, int now, int64_t at);

// Pods left out of every replica's cluster: the joining and the leaving.
std::set<std::string> outside_cluster(const ReplicaChanges& changes);
// Per shard, the replicas its StatefulSet keeps: `replicas`, and each
// leaving one whose tables are not dropped yet (and every ordinal below it).
std::vector<int> held_replicas(const ReplicaChanges& changes, int shards, int replicas);

// A ClickHouse pod as the informer holds it.
struct PodSeen {
  int shard = 0;
  int ordinal = 0;
  bool answers = false;  // running, every container ready (its /ping probe)
  bool serving = false;  // kServingCondition is True
  bool ready = false;    // Ready: serving, and answers
  bool deleting = false; // it has a deletionTimestamp
  bool pending = false;  // not started yet (phase Pending: never scheduled, say)
};

struct ReplicaMove {
  enum class Kind {
    kServe,    // set the condition True
    kJoin,     // copy from `source` what it lacks; once caught up, kServe
    kJoined,   // a joining replica serves: it joins every cluster
    kUnserve,  // set the condition False
    kDrain,    // once no replica of `everyone` has it in its cluster and each of `others` caught up with it,
               // drop its tables
    kRelease,  // it never served and never started: let it go as it is
    kForget,   // its pod is gone: delete its volume claim, forget it
  };
  Kind kind;
  std::string pod;
  std::string source;
  std::vector<std::string> others;    // kDrain: its shard's serving replicas
  std::vector<std::string> everyone;  // kDrain: every shard's serving replicas
  bool operator==(const ReplicaMove&) const = default;
};

// The moves of one round for the service `service` of `shards` x
// `replicas`, from its pods as seen (by name). In a stable order: by shard,
// then ordinal.
std::vector<ReplicaMove> plan_replica_moves(const ReplicaChanges& changes, const std::string& service, int shards,
                                            int replicas, const std::map<std::string, PodSeen>& pods, int64_t now);

// Why the service is not READY while replicas change: "scaling", or
// "scale_failed" when one joined, or left without answering, longer than
// kScaleBoundSeconds. nullopt when nothing changes.
std::optional<std::string> scaling_reason(const ReplicaChanges& changes, const std::map<std::string, PodSeen>& pods,
                                          int64_t now);

}  // namespace byoc::agent::kube_runtime
