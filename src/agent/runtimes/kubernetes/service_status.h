// What the Kubernetes runtime reports for a service, from what its informers
// hold: the service's StatefulSets (one per shard), its pods, its endpoint
// Deployment and Service. Pure: no I/O.
//
// READY means `spec` serves: every shard's StatefulSet and the endpoint's
// Deployment have rolled out the generation the runtime last applied (the
// controller observed it, every pod is of the new revision and ready), and
// the endpoint has an address. A workload the informer saw before the
// runtime's last apply is never taken for the new one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/runtime.h"
#include "agent/runtimes/kubernetes/replica_changes.h"
#include "agent/runtimes/kubernetes/version_rollout.h"

namespace byoc::agent::kube_runtime {

struct ObservedService {
  std::map<std::string, const nlohmann::json*> stateful_sets;  // by name; null or missing: not there
  std::map<std::string, const nlohmann::json*> pods;
  const nlohmann::json* endpoint_deployment = nullptr;
  const nlohmann::json* endpoint_service = nullptr;
  // "<s>-endpoint.<namespace>.svc": how an in-cluster endpoint (a Service
  // without a load balancer) is reached, and what its certificate names.
  std::string in_cluster_host;
  // metadata.generation of each workload as the runtime's last apply
  // returned it (by name); 0 or missing: anything the informer has will do.
  std::map<std::string, int64_t> applied_generations;
  // StatefulSet name → the RollingUpdate partition last applied (a version
  // rollout, version_rollout.h): rolled out means the pods at or above it
  // are of the new revision and every pod is ready. Missing: 0.
  std::map<std::string, int> partitions;
};

ServiceStatus service_status(const ServiceSpec& spec, const ObservedService& seen);

// One replica's state from its pod (null: no pod yet).
ReplicaState replica_state(const nlohmann::json* pod);

// "https://HOST:PORT" of the endpoint Service (its load balancer's name or
// address, once it has one; for an in-cluster Service, `in_cluster_host`),
// and the native port's "HOST:PORT"; empty while it has none.
struct EndpointAddress {
  std::string https;
  std::string native;
};
EndpointAddress endpoint_address(const nlohmann::json& service, const std::string& in_cluster_host);

// Whether a StatefulSet or Deployment has rolled out `generation` (0: its
// own) to `replicas` ready pods, those below `partition` excepted (they
// keep the revision they run).
bool rolled_out(const nlohmann::json& workload, int64_t generation, int replicas, int partition = 0);

// What a version rollout decides on: each shard's StatefulSet caught up
// with the last apply, and its pods (ordinal 0 to spec.replicas - 1).
std::vector<ShardView> shard_views(const ServiceSpec& spec, const ObservedService& seen);

// A ClickHouse pod as replica_changes.h decides on — its shard from its
// byoc.io/shard label, its ordinal from its name, what its conditions say —
// and its address (status.podIP; "" while it has none). nullopt for any
// other pod.
struct ReplicaPod {
  PodSeen seen;
  std::string address;
};
std::optional<ReplicaPod> replica_pod(const nlohmann::json& pod);

// The strategic merge patch of a pod's status (conditions merge by type)
// that sets render/kubernetes kServingCondition.
nlohmann::json serving_patch(bool serving, const std::string& reason, int64_t now);

}  // namespace byoc::agent::kube_runtime
