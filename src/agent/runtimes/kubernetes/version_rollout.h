// How the kubernetes runtime moves a service to another version or size
// replica by replica (kubernetes_runtime.h, "Versions"): the version's image
// from the agent's versions.json, the rollout it keeps on disk, and the pure
// decision of its next move from what the informers hold. No I/O but the
// record's file.
//
// A StatefulSet rolls every pod once its template changes; a RollingUpdate
// partition holds the pods below it on the revision they run. A rollout
// renders the new template (image, resources) with every shard's partition
// at its replica count (nothing moves), then lowers one partition by one at a time — a step: the
// controller replaces that one pod — only while now < not_after and every
// replica of the service is ready, and the next only once the replaced pod
// runs the new template and is ready: its image and a revision
// (controller-revision-hash label) other than the one it had when the step
// began — a resize keeps the image, and a template applied again mid-step
// (a password, say) makes yet another revision, which counts as well. A pod not ready within kStepBound fails
// the step: the partition goes back above it and the pod is deleted, which
// the controller recreates on the revision below the partition (the old
// one); the rollout stops, the failed step named. Not thread-safe: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/runtime.h"
#include "agent/versions.h"

namespace byoc::agent::kube_runtime {

// The image version `name` ("" : the default) runs: its versions.json
// entry's `image`. Without a versions.json (`versions` is the built-in
// list) the default version runs what this runtime always ran for it,
// render::kubernetes::clickhouse_image(name, registry) — a tag, as no digest
// of it is known here. nullopt: the version is not the runtime's to run.
std::optional<std::string> resolve_image(const VersionList& versions, const std::string& name,
                                         const std::string& registry);

// From a replaced pod's partition step to its end (ready on the new image):
// the old pod's grace (120 s), the new image's pull and ClickHouse's start.
// Within the 6 minutes a window leaves a step (controllers/upgrade_planner.h
// kReplicaStepEstimate).
inline constexpr std::chrono::seconds kStepBound{300};

struct VersionRollout {
  std::string id;  // the request's
  int64_t not_after = 0;
  std::string image;               // the target: this image at this size
  int cpu_millis = 0;              // 0 in a record from before sizes rolled (service_records.cc fills it in)
  int memory_mib = 0;
  std::string state = "rolling";   // model::rollout_states()
  std::vector<int> partitions;     // per shard; empty once done
  // The step under way (shard 0: none): the pod <s>-s<shard>-<ordinal>.
  int step_shard = 0;
  int step_ordinal = 0;
  int64_t step_started = 0;  // Unix seconds
  // The step's pod's revision as the step began; "" when it ran the
  // updateRevision already or nothing told (then the set's updateRevision decides).
  std::string step_revision;
  bool restoring = false;    // the failed step's pod goes back to the old revision
  bool pod_deleted = false;  // ...deleted for that, once: the informers' copy may lag
  int failed_shard = 0;
  int failed_replica = 0;
  std::string failed_check;
  bool operator==(const VersionRollout&) const = default;
};

// What the informers hold of one replica's pod.
struct PodView {
  bool exists = false;
  std::string image;     // the clickhouse container's
  std::string revision;  // its controller-revision-hash label: the template it was made from
  ReplicaState state = ReplicaState::kStarting;  // kRunning: ready
  bool up = false;  // phase Running and no container waiting to restart: it started
  bool terminating = false;
};

// One shard: whether its StatefulSet's controller has seen the last apply,
// and its pods by ordinal.
struct ShardView {
  bool settled = false;
  std::string update_revision;  // the StatefulSet's status.updateRevision; "" unknown
  std::vector<PodView> pods;
};

// What advance() asks the runtime to do: save the record, then apply; or
// delete the pod, then save the record (a crash between repeats the delete,
// of a pod the informers' fresh lists then show as it is).
struct RolloutMove {
  bool changed = false;     // save the record
  bool apply = false;       // apply the StatefulSets with the record's partitions
  int delete_shard = 0;     // delete this pod (shard 0: none)
  int delete_ordinal = 0;
};

// A new rollout to `image` at `spec`'s size: every shard held.
VersionRollout hold_all(const std::string& id, int64_t not_after, const std::string& image, const ServiceSpec& spec);

// Whether `rollout` moves pods to `image` at `spec`'s size.
bool same_target(const VersionRollout& rollout, const std::string& image, const ServiceSpec& spec);

// The next move of `rollout` (updated in place) at `now` (Unix seconds),
// one per call; repeated calls with nothing new observed make none.
RolloutMove advance(VersionRollout& rollout, const std::vector<ShardView>& shards, int replicas, int64_t now);

// The pods that run the target, step excluded (what the report counts).
int replicas_done(const VersionRollout& rollout, int shards, int replicas);

// <dir>/rollout.json: saved before the move acts; nullopt when missing, a
// malformed file throws kInternal.
void save_rollout(const std::filesystem::path& dir, const VersionRollout& rollout);
std::optional<VersionRollout> load_rollout(const std::filesystem::path& dir);
void remove_rollout(const std::filesystem::path& dir);

}  // namespace byoc::agent::kube_runtime
