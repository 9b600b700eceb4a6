#include "agent/runtimes/kubernetes/replica_changes.h"

#include <algorithm>

#include "render/kubernetes/kubernetes.h"

namespace byoc::agent::kube_runtime {
namespace {

const PodSeen* seen_of(const std::map<std::string, PodSeen>& pods, const std::string& pod) {
  auto it = pods.find(pod);
  return it == pods.end() ? nullptr : &it->second;
}

}  // namespace

void note_replicas(ReplicaChanges& changes, const std::string& service, int shards, int was, int now, int64_t at) {
  for (int shard = 1; shard <= shards; ++shard) {
    for (int ordinal = 0; ordinal < std::max(was, now); ++ordinal) {
      const std::string pod = render::kubernetes::replica_pod_name(service, shard, ordinal);
      if (ordinal < now) {
        auto leaving = changes.leaving.find(pod);
        if (leaving != changes.leaving.end()) {
          // Added back: with its tables dropped it has nothing; else it
          // serves again once caught up (plan_replica_moves).
          // Never served, it has nothing of its own either.
          if (leaving->second.dropping || leaving->second.dropped || leaving->second.never_served)
            changes.joining.emplace(pod, at);
          changes.leaving.erase(leaving);
        } else if (was > 0 && ordinal >= was) {
          changes.joining.emplace(pod, at);
        }
      } else if (ordinal < was && !changes.leaving.count(pod)) {
        const bool never_served = changes.joining.erase(pod) > 0;
        changes.leaving[pod] = LeavingReplica{shard, ordinal, at, never_served, false, false};
      }
    }
  }
}

std::set<std::string> outside_cluster(const ReplicaChanges& changes) {
  std::set<std::string> out;
  for (const auto& [pod, since] : changes.joining) out.insert(pod);
  for (const auto& [pod, leaving] : changes.leaving) out.insert(pod);
  return out;
}

std::vector<int> held_replicas(const ReplicaChanges& changes, int shards, int replicas) {
  std::vector<int> out(static_cast<size_t>(std::max(shards, 0)), replicas);
  for (const auto& [pod, leaving] : changes.leaving)
    if (!leaving.dropped && leaving.shard >= 1 && leaving.shard <= shards) {
      int& held = out[static_cast<size_t>(leaving.shard - 1)];
      held = std::max(held, leaving.ordinal + 1);
    }
  return out;
}

std::vector<ReplicaMove> plan_replica_moves(const ReplicaChanges& changes, const std::string& service, int shards,
                                            int replicas, const std::map<std::string, PodSeen>& pods, int64_t now) {
  namespace rk = render::kubernetes;
  std::vector<ReplicaMove> out;
  // Every replica that serves: each may send a leaving one Distributed queries.
  std::vector<std::string> everyone;
  for (const auto& [pod, seen] : pods)
    if (seen.serving && seen.ready && !seen.deleting && !changes.joining.count(pod) && !changes.leaving.count(pod))
      everyone.push_back(pod);
  for (int shard = 1; shard <= shards; ++shard) {
    // Who a replica of this shard may catch up with: one that serves, is
    // Ready, and neither joins nor leaves.
    std::vector<std::string> sources;
    for (int ordinal = 0; ordinal < replicas; ++ordinal) {
      const std::string pod = rk::replica_pod_name(service, shard, ordinal);
      const PodSeen* seen = seen_of(pods, pod);
      if (seen && seen->serving && seen->ready && !seen->deleting && !changes.joining.count(pod) &&
          !changes.leaving.count(pod))
        sources.push_back(pod);
    }
    for (int ordinal = 0; ordinal < replicas; ++ordinal) {
      const std::string pod = rk::replica_pod_name(service, shard, ordinal);
      const PodSeen* seen = seen_of(pods, pod);
      if (seen && seen->serving && changes.joining.count(pod)) {
        out.push_back({ReplicaMove::Kind::kJoined, pod, "", {}});
        continue;
      }
      if (!seen || !seen->answers || seen->serving || seen->deleting || changes.leaving.count(pod)) continue;
      auto source = std::find_if(sources.begin(), sources.end(), [&](const std::string& s) { return s != pod; });
      if (source != sources.end()) {
        out.push_back({ReplicaMove::Kind::kJoin, pod, *source, {}});
      } else if (!changes.joining.count(pod)) {
        out.push_back({ReplicaMove::Kind::kServe, pod, "", {}});
      }
    }
    // The shard's leaving replicas, by ordinal.
    std::vector<std::pair<int, std::string>> leaving;
    for (const auto& [pod, l] : changes.leaving)
      if (l.shard == shard) leaving.emplace_back(l.ordinal, pod);
    std::sort(leaving.begin(), leaving.end());
    for (const auto& [ordinal, pod] : leaving) {
      const LeavingReplica& l = changes.leaving.at(pod);
      const PodSeen* seen = seen_of(pods, pod);
      if (l.dropped) {
        if (!seen) out.push_back({ReplicaMove::Kind::kForget, pod, "", {}});
        continue;
      }
      if (seen && seen->serving) {
        out.push_back({ReplicaMove::Kind::kUnserve, pod, "", {}});
        continue;
      }
      const bool answers = seen && seen->answers && !seen->deleting;
      if (l.never_served) {
        // Never in the endpoint nor in a cluster: nothing to wait for.
        // Answering, its tables go (it may have joined ZooKeeper already).
        // Released only if it never started: one that ran may have joined
        // ZooKeeper, and is waited for to drop its tables.
        if (answers) {
          out.push_back({ReplicaMove::Kind::kDrain, pod, "", {}, {}});
        } else if (!seen || seen->pending) {
          out.push_back({ReplicaMove::Kind::kRelease, pod, "", {}, {}});
        }
        continue;
      }
      // A replica that doesn't answer is waited for (its StatefulSet keeps
      // it, the kubelet restarts it): what was written to it alone is only there.
      if (now < l.since + kLeaveLingerSeconds || !answers || sources.empty()) continue;
      out.push_back({ReplicaMove::Kind::kDrain, pod, "", sources, everyone});
    }
  }
  return out;
}

std::optional<std::string> scaling_reason(const ReplicaChanges& changes, const std::map<std::string, PodSeen>& pods,
                                          int64_t now) {
  if (changes.empty()) return std::nullopt;
  for (const auto& [pod, since] : changes.joining)
    if (now - since > kScaleBoundSeconds) return "scale_failed";
  for (const auto& [pod, l] : changes.leaving) {
    const PodSeen* seen = seen_of(pods, pod);
    if (!l.dropped && !l.never_served && now - l.since > kLeaveLingerSeconds + kScaleBoundSeconds &&
        !(seen && seen->answers))
      return "scale_failed";
  }
  return "scaling";
}

}  // namespace byoc::agent::kube_runtime
