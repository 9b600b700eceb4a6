// What the Kubernetes runtime does for each move replica_changes.h decides:
// a pod's serving condition (its status, through the API), a replica's SQL
// over HTTP at its pod's address as the cluster user (copying a joining
// replica's tables, checking it caught up, draining a leaving one), and the
// volume claim of one that left. Each move that changes the record saves it
// (through `save`) before what follows acts.
//
// Not thread-safe: the runtime calls it on its applying thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "agent/replicas/replica_sql.h"
#include "agent/runtimes/kubernetes/kubernetes_runtime.h"
#include "agent/runtimes/kubernetes/replica_changes.h"
#include "agent/runtimes/kubernetes/service_status.h"

namespace byoc::agent::kube_runtime {

// The value of `key` in a Secret's data, decoded; nullopt when it has none
// (or no Secret).
std::optional<std::string> secret_value(const nlohmann::json* secret, const std::string& key);

class ReplicaMoves {
 public:
  using Save = std::function<void(const std::string& service, const ReplicaChanges& changes)>;
  // `client` and `options` must outlive this.
  ReplicaMoves(kube::Client& client, const KubernetesRuntimeOptions& options, Save save)
      : client_(client), options_(options), save_(std::move(save)) {}

  // Makes `move` for `service`, whose replica changes are `changes` (updated
  // and saved as it goes); `pods` are its ClickHouse pods as the informer
  // holds them. True when who is in the cluster, or which replicas the
  // StatefulSets keep, changed. Throws what the API client throws.
  bool make(const std::string& service, ReplicaChanges& changes, const ReplicaMove& move,
            const std::map<std::string, ReplicaPod>& pods, int64_t now);

  // The cluster user's password of `service`, as the runtime made or found
  // it; without it, it is read from the service's credentials Secret.
  void set_cluster_password(const std::string& service, const std::string& password);
  void forget(const std::string& service);

 private:
  void set_serving(const std::string& pod, bool serving, const std::string& reason, int64_t now);
  // How `pod`'s SQL is reached; nullopt while it has no address or the
  // service's cluster password is not known.
  std::optional<replicas::ReplicaAccess> access(const std::string& service, const std::string& pod,
                                                const std::map<std::string, ReplicaPod>& pods);
  bool join(const std::string& service, ReplicaChanges& changes, const ReplicaMove& move,
            const std::map<std::string, ReplicaPod>& pods, int64_t now);
  bool drain(const std::string& service, ReplicaChanges& changes, const ReplicaMove& move,
             const std::map<std::string, ReplicaPod>& pods);

  kube::Client& client_;
  const KubernetesRuntimeOptions& options_;
  Save save_;
  std::map<std::string, std::string> cluster_passwords_;  // by service
};

}  // namespace byoc::agent::kube_runtime
