#include "agent/runtimes/kubernetes/service_status.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::agent::kube_runtime {
namespace {

using nlohmann::json;

const json& at_or_null(const json& object, const char* key) {
  static const json kNull;
  return object.is_object() && object.contains(key) ? object[key] : kNull;
}

int64_t integer(const json& object, const char* key) {
  const json& v = at_or_null(object, key);
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

std::string text(const json& object, const char* key) {
  const json& v = at_or_null(object, key);
  return v.is_string() ? v.get<std::string>() : "";
}

bool condition_true(const json& status, const char* type) {
  const json& conditions = at_or_null(status, "conditions");
  if (!conditions.is_array()) return false;
  for (const auto& c : conditions)
    if (text(c, "type") == type) return text(c, "status") == "True";
  return false;
}

bool pod_ready(const json& status) { return condition_true(status, "Ready"); }

// A container waiting to be started again after it ended (CrashLoopBackOff),
// or a pod whose image can't be had: restarting, as the local runtime says
// of a process in backoff.
bool restarting(const json& status) {
  for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
    const json& containers = at_or_null(status, key);
    if (!containers.is_array()) continue;
    for (const auto& c : containers) {
      std::string reason = text(at_or_null(at_or_null(c, "state"), "waiting"), "reason");
      if (reason == "CrashLoopBackOff" || reason == "ImagePullBackOff" || reason == "ErrImagePull" ||
          reason == "CreateContainerConfigError")
        return true;
    }
  }
  return false;
}

}  // namespace

ReplicaState replica_state(const json* pod) {
  if (!pod) return ReplicaState::kStarting;
  if (!at_or_null(at_or_null(*pod, "metadata"), "deletionTimestamp").is_null()) return ReplicaState::kStopped;
  const json& status = at_or_null(*pod, "status");
  const std::string phase = text(status, "phase");
  if (phase == "Failed") return ReplicaState::kFailed;
  if (phase == "Succeeded") return ReplicaState::kStopped;  // ClickHouse never ends of its own accord
  if (restarting(status)) return ReplicaState::kRestarting;
  if (phase == "Running" && pod_ready(status)) return ReplicaState::kRunning;
  return ReplicaState::kStarting;
}

bool rolled_out(const json& workload, int64_t generation, int replicas, int partition) {
  const json& meta = at_or_null(workload, "metadata");
  const json& spec = at_or_null(workload, "spec");
  const json& status = at_or_null(workload, "status");
  const int64_t current = integer(meta, "generation");
  if (current < generation) return false;  // the informer hasn't seen the apply yet
  if (integer(spec, "replicas") != replicas) return false;
  if (integer(status, "observedGeneration") < current) return false;
  if (integer(status, "readyReplicas") != replicas || integer(status, "replicas") != replicas) return false;
  // Below a partition, pods keep the revision they run (an older one, or
  // the new one a rollout stopped before reached already).
  if (partition > 0) return integer(status, "updatedReplicas") >= std::max(replicas - partition, 0);
  if (integer(status, "updatedReplicas") != replicas) return false;
  // A StatefulSet says which revision its pods are of: none of an older one left.
  const std::string update_revision = text(status, "updateRevision");
  if (!update_revision.empty() && text(status, "currentRevision") != update_revision) return false;
  return true;
}

std::vector<ShardView> shard_views(const ServiceSpec& spec, const ObservedService& seen) {
  namespace rk = render::kubernetes;
  std::vector<ShardView> out;
  for (int shard = 1; shard <= spec.shards; ++shard) {
    const std::string set_name = rk::shard_stateful_set_name(spec.name, shard);
    ShardView view;
    if (auto set = seen.stateful_sets.find(set_name); set != seen.stateful_sets.end() && set->second) {
      const int64_t generation = integer(at_or_null(*set->second, "metadata"), "generation");
      auto applied = seen.applied_generations.find(set_name);
      view.settled = generation >= (applied == seen.applied_generations.end() ? 0 : applied->second) &&
                     integer(at_or_null(*set->second, "status"), "observedGeneration") >= generation;
      view.update_revision = text(at_or_null(*set->second, "status"), "updateRevision");
    }
    for (int r = 0; r < spec.replicas; ++r) {
      PodView pod;
      auto it = seen.pods.find(set_name + "-" + std::to_string(r));
      if (it != seen.pods.end() && it->second) {
        const json& object = *it->second;
        pod.exists = true;
        pod.state = replica_state(&object);
        pod.terminating = !at_or_null(at_or_null(object, "metadata"), "deletionTimestamp").is_null();
        pod.up = text(at_or_null(object, "status"), "phase") == "Running" && !restarting(at_or_null(object, "status"));
        pod.revision = text(at_or_null(at_or_null(object, "metadata"), "labels"), "controller-revision-hash");
        const json& containers = at_or_null(at_or_null(object, "spec"), "containers");
        if (containers.is_array())
          for (const auto& c : containers)
            if (text(c, "name") == "clickhouse") pod.image = text(c, "image");
      }
      view.pods.push_back(pod);
    }
    out.push_back(std::move(view));
  }
  return out;
}

EndpointAddress endpoint_address(const json& service, const std::string& in_cluster_host) {
  const json& spec = at_or_null(service, "spec");
  std::string host;
  const json& ingress = at_or_null(at_or_null(at_or_null(service, "status"), "loadBalancer"), "ingress");
  if (text(spec, "type") == "LoadBalancer") {
    if (ingress.is_array() && !ingress.empty()) {
      host = text(ingress[0], "hostname");
      if (host.empty()) host = text(ingress[0], "ip");
    }
  } else {
    host = in_cluster_host;  // its name: stable, and what the certificate names
  }
  if (host.empty()) return {};
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  EndpointAddress out;
  const json& ports = at_or_null(spec, "ports");
  if (!ports.is_array()) return out;
  for (const auto& p : ports) {
    const int64_t port = integer(p, "port");
    if (port <= 0) continue;
    if (text(p, "name") == "https") out.https = "https://" + host + ":" + std::to_string(port);
    if (text(p, "name") == "native") out.native = host + ":" + std::to_string(port);
  }
  return out;
}

ServiceStatus service_status(const ServiceSpec& spec, const ObservedService& seen) {
  namespace rk = render::kubernetes;
  ServiceStatus out;
  out.name = spec.name;
  auto generation_of = [&](const std::string& name) {
    auto it = seen.applied_generations.find(name);
    return it == seen.applied_generations.end() ? int64_t{0} : it->second;
  };
  bool workloads_ready = true;
  bool any_failed = false;
  for (int shard = 1; shard <= spec.shards; ++shard) {
    const std::string set_name = rk::shard_stateful_set_name(spec.name, shard);
    auto set = seen.stateful_sets.find(set_name);
    const json* set_object = set == seen.stateful_sets.end() ? nullptr : set->second;
    auto partition = seen.partitions.find(set_name);
    if (!set_object || !rolled_out(*set_object, generation_of(set_name), spec.replicas,
                                   partition == seen.partitions.end() ? 0 : partition->second))
      workloads_ready = false;
    for (int r = 1; r <= spec.replicas; ++r) {
      auto pod = seen.pods.find(set_name + "-" + std::to_string(r - 1));
      ReplicaStatus replica;
      replica.shard = shard;
      replica.replica = r;
      replica.state = replica_state(pod == seen.pods.end() ? nullptr : pod->second);
      any_failed = any_failed || replica.state == ReplicaState::kFailed;
      out.replicas.push_back(replica);
    }
  }
  const std::string endpoint_name = rk::endpoint_service_name(spec.name);
  const json* deployment = seen.endpoint_deployment;
  const int64_t endpoint_replicas = deployment ? integer(at_or_null(*deployment, "spec"), "replicas") : 0;
  if (!deployment || endpoint_replicas < 1 ||
      !rolled_out(*deployment, generation_of(endpoint_name), static_cast<int>(endpoint_replicas)))
    workloads_ready = false;
  if (seen.endpoint_service) {
    EndpointAddress address = endpoint_address(*seen.endpoint_service, seen.in_cluster_host);
    out.endpoint = address.https;
    out.native_endpoint = address.native;
  }
  bool replicas_running = true;
  for (const auto& r : out.replicas) replicas_running = replicas_running && r.state == ReplicaState::kRunning;
  if (any_failed) {
    out.state = ServiceState::kFailed;
    out.reason = "replica_failed";
  } else if (workloads_ready && replicas_running && !out.endpoint.empty()) {
    out.state = ServiceState::kReady;
  } else {
    out.state = ServiceState::kProvisioning;
    out.reason = "starting";
  }
  return out;
}

std::optional<ReplicaPod> replica_pod(const json& pod) {
  const json& meta = at_or_null(pod, "metadata");
  const json& labels = at_or_null(meta, "labels");
  if (text(labels, "app.kubernetes.io/name") != "clickhouse") return std::nullopt;
  const std::string name = text(meta, "name");
  const std::string shard = text(labels, "byoc.io/shard");
  const size_t dash = name.rfind('-');
  if (shard.empty() || dash == std::string::npos || dash + 1 == name.size()) return std::nullopt;
  ReplicaPod out;
  try {
    size_t used = 0;
    out.seen.shard = std::stoi(shard, &used);
    if (used != shard.size()) return std::nullopt;
    out.seen.ordinal = std::stoi(name.substr(dash + 1), &used);
    if (used != name.size() - dash - 1) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const json& status = at_or_null(pod, "status");
  out.seen.answers = text(status, "phase") == "Running" && condition_true(status, "ContainersReady");
  out.seen.serving = condition_true(status, render::kubernetes::kServingCondition);
  out.seen.ready = pod_ready(status);
  out.seen.deleting = !at_or_null(meta, "deletionTimestamp").is_null();
  out.seen.pending = text(status, "phase") == "Pending" || text(status, "phase").empty();
  out.address = text(status, "podIP");
  return out;
}

json serving_patch(bool serving, const std::string& reason, int64_t now) {
  return {{"status",
           {{"conditions", json::array({{{"type", render::kubernetes::kServingCondition},
                                         {"status", serving ? "True" : "False"},
                                         {"reason", reason},
                                         {"lastTransitionTime", format_rfc3339(now)}}})}}}};
}

}  // namespace byoc::agent::kube_runtime
