#include "agent/runtimes/kubernetes/replica_moves.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "agent/replicas/schema_copy.h"
#include "base/crypto.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::agent::kube_runtime {
namespace {
namespace rk = render::kubernetes;
using nlohmann::json;
}  // namespace

std::optional<std::string> secret_value(const json* secret, const std::string& key) {
  if (!secret || !secret->contains("data") || !(*secret)["data"].is_object()) return std::nullopt;
  const json& data = (*secret)["data"];
  if (!data.contains(key) || !data[key].is_string()) return std::nullopt;
  return crypto::base64_decode(data[key].get<std::string>());
}

bool ReplicaMoves::make(const std::string& service, ReplicaChanges& changes, const ReplicaMove& move,
                        const std::map<std::string, ReplicaPod>& pods, int64_t now) {
  using Kind = ReplicaMove::Kind;
  switch (move.kind) {
    case Kind::kServe:
      set_serving(move.pod, true, "Started", now);
      return false;
    case Kind::kJoin:
      return join(service, changes, move, pods, now);
    case Kind::kJoined:
      changes.joining.erase(move.pod);
      save_(service, changes);
      return true;
    case Kind::kUnserve:
      spdlog::info("kubernetes runtime: {} leaves the service: it serves no more", move.pod);
      set_serving(move.pod, false, "Leaving", now);
      return false;
    case Kind::kDrain:
      return drain(service, changes, move, pods);
    case Kind::kRelease:
      // Never served: nothing written to it alone. Had it made its tables
      // before it stopped answering, its replica nodes stay in ZooKeeper.
      spdlog::warn("kubernetes runtime: {} never served and doesn't answer: it goes as it is", move.pod);
      changes.leaving[move.pod].dropped = true;
      save_(service, changes);
      return true;
    case Kind::kForget:
      // The informer may lag: only a pod the API doesn't have is gone.
      if (client_.get({"v1", "Pod", options_.render.namespace_name, move.pod})) return false;
      client_.remove({"v1", "PersistentVolumeClaim", options_.render.namespace_name, "data-" + move.pod});
      spdlog::info("kubernetes runtime: {} removed, and its volume", move.pod);
      changes.leaving.erase(move.pod);
      save_(service, changes);
      return false;
  }
  return false;
}

bool ReplicaMoves::join(const std::string& service, ReplicaChanges& changes, const ReplicaMove& move,
                        const std::map<std::string, ReplicaPod>& pods, int64_t now) {
  auto source = access(service, move.source, pods);
  auto target = access(service, move.pod, pods);
  if (!source || !target) return false;
  if (changes.joining.count(move.pod)) {
    const std::optional<bool> unreplicated = replicas::has_unreplicated_rows(*source);
    if (!unreplicated) return false;  // it did not answer: next round
    if (*unreplicated) {
      // A new replica would get those tables empty and serve them so.
      spdlog::warn("kubernetes runtime: {} can't join: {} has rows in tables that don't replicate", move.pod,
                   move.source);
      return false;
    }
  }
  std::string error;
  if (!replicas::copy_schema(*source, *target, &error)) {
    if (!error.empty()) spdlog::warn("kubernetes runtime: {} cannot get its tables yet: {}", move.pod, error);
    return false;
  }
  // Again after catching up: a table made meanwhile (ON CLUSTER DDL passes
  // by a replica out of the cluster) is not missed.
  if (!replicas::has_caught_up(*source, *target) || !replicas::copy_schema(*source, *target, &error)) return false;
  spdlog::info("kubernetes runtime: {} has the tables of {} and caught up: it serves", move.pod, move.source);
  // No longer joining before it serves: once it may have been written to,
  // a scale-down drains it as any other.
  const bool joined = changes.joining.erase(move.pod) > 0;
  if (joined) save_(service, changes);
  set_serving(move.pod, true, "CaughtUp", now);
  return joined;
}

bool ReplicaMoves::drain(const std::string& service, ReplicaChanges& changes, const ReplicaMove& move,
                         const std::map<std::string, ReplicaPod>& pods) {
  auto leaving = access(service, move.pod, pods);
  if (!leaving) return false;
  // Nothing reaches it any more (every other has reloaded a cluster without
  // it), it has sent what Distributed inserts left with it, and what was
  // written to it alone is on every other of its shard.
  const std::string host = rk::replica_host(service, move.pod, options_.render);
  for (const auto& other : move.everyone) {
    auto replica = access(service, other, pods);
    if (!replica || !replicas::cluster_excludes(*replica, service, host)) return false;
  }
  if (!replicas::distributed_sends_done(*leaving)) return false;
  for (const auto& other : move.others) {
    auto replica = access(service, other, pods);
    if (!replica || !replicas::has_caught_up(*leaving, *replica)) return false;
  }
  LeavingReplica& l = changes.leaving[move.pod];
  if (!l.dropping) {  // from here on, added back it starts over
    l.dropping = true;
    save_(service, changes);
  }
  std::string error;
  if (!replicas::drop_tables(*leaving, &error)) {
    spdlog::warn("kubernetes runtime: cannot drop the tables of {} yet: {}", move.pod, error);
    return false;
  }
  spdlog::info("kubernetes runtime: {} is drained and out of ZooKeeper: it goes", move.pod);
  l.dropped = true;
  save_(service, changes);
  return true;
}

void ReplicaMoves::set_cluster_password(const std::string& service, const std::string& password) {
  cluster_passwords_[service] = password;
}

void ReplicaMoves::forget(const std::string& service) { cluster_passwords_.erase(service); }

void ReplicaMoves::set_serving(const std::string& pod, bool serving, const std::string& reason, int64_t now) {
  client_.strategic_merge_patch({"v1", "Pod", options_.render.namespace_name, pod}, serving_patch(serving, reason, now),
                                "status");
}

std::optional<replicas::ReplicaAccess> ReplicaMoves::access(const std::string& service, const std::string& pod,
                                                            const std::map<std::string, ReplicaPod>& pods) {
  auto it = pods.find(pod);
  if (it == pods.end() || it->second.address.empty()) return std::nullopt;
  std::string& password = cluster_passwords_[service];
  if (password.empty()) {
    auto secret = client_.get({"v1", "Secret", options_.render.namespace_name, rk::credentials_secret_name(service)});
    password = secret_value(secret ? &*secret : nullptr, rk::kClusterPasswordKey).value_or("");
    if (password.empty()) return std::nullopt;
  }
  replicas::ReplicaAccess out;
  out.user = rk::kClusterUser;
  out.password = password;
  out.replicated = true;
  if (options_.replica_address) {
    std::tie(out.host, out.http_port) = options_.replica_address(pod, it->second.address);
  } else {
    const std::string& ip = it->second.address;
    out.host = ip.find(':') == std::string::npos ? ip : "[" + ip + "]";  // an IPv6 cluster's pods
    out.http_port = rk::kReplicaHttpPort;
  }
  return out;
}

}  // namespace byoc::agent::kube_runtime
