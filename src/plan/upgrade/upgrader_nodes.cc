// The upgrader's node groups: replacements created and waited for, old nodes
// tainted, labelled, cordoned and drained through the Eviction API, old groups
// deleted once empty.
#include <algorithm>
#include <charconv>

#include "plan/upgrade/upgrader.h"

namespace byoc::plan::upgrade {

namespace {

std::string label(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? "" : it->second;
}

std::chrono::seconds drain_of(const Pod& pod) {
  std::string text = label(pod.annotations, kDrainSecondsAnnotation);
  int64_t seconds = 0;
  std::from_chars(text.data(), text.data() + text.size(), seconds);
  return std::chrono::seconds{std::max<int64_t>(seconds, 0)};
}

bool selects(const Pdb& pdb, const Pod& pod) {
  return std::all_of(pdb.matchLabels.begin(), pdb.matchLabels.end(),
                     [&](const auto& kv) { return label(pod.labels, kv.first.c_str()) == kv.second; });
}

int64_t unix_of(Instant t) { return t.time_since_epoch().count(); }

}  // namespace

bool Upgrader::replacement_ready(const std::string& old_name, GroupRecord& g) {
  if (g.ready_seen) return true;
  auto group = observe([&] { return eks_.describe_nodegroup(g.replacement); });
  if (!group && g.attempts == 0) {
    Instant due = replacement_due(old_name);
    if (timeline_.now() < due) {
      wake_ = std::min(wake_, due);  // nothing in flight for this group: sleep until it is due
      return false;
    }
  }
  busy_ = true;
  if (!group) {
    if (g.attempts == g.failed_attempts) {
      ++g.attempts;  // a new request, its own token, recorded before it is sent
      save();
    }
    // Else the recorded request may never have reached EKS: the same token again creates at most once.
    CreateNodegroupRequest request{g.replacement, target_.target_version, g.instance_types, g.desired_size, g.labels,
                                   token("create-" + g.replacement + "-" + std::to_string(g.attempts))};
    mutate("create node group " + g.replacement, [&] {
      eks_.create_nodegroup(request);
      return 0;
    });
    event("create_node_group", g.replacement);
    return false;
  }
  if (group->status == "CREATE_FAILED") {
    if (g.failed_attempts < g.attempts) {
      g.failed_attempts = g.attempts;
      g.gave_up = g.attempts >= options_.max_create_attempts;
      save();
      event(g.gave_up ? "give_up_node_group" : "node_group_failed", g.replacement);
    }
    // A failed group holds its name: delete it before trying again (or for good).
    mutate("delete failed node group " + g.replacement, [&] {
      eks_.delete_nodegroup(g.replacement);
      return 0;
    });
    event("delete_node_group", g.replacement);
    return false;
  }
  if (group->status != "ACTIVE") return false;
  std::vector<Node> nodes = observe([&] { return kube_.list_nodes(kNodegroupLabel, g.replacement); });
  bool all_ready = static_cast<int>(nodes.size()) == g.desired_size &&
                   std::all_of(nodes.begin(), nodes.end(), [](const Node& n) { return n.ready; });
  if (!all_ready) return false;
  g.ready_seen = true;
  save();
  for (const Node& n : nodes) event("node_ready", g.replacement, n.name);
  return true;
}

Instant Upgrader::replacement_due(const std::string& old_name) {
  Instant now = timeline_.now();
  Instant first = Instant::max();
  for (const Node& n : observe([&] { return kube_.list_nodes(kNodegroupLabel, old_name); })) {
    for (const Pod& pod : observe([&] { return kube_.list_pods_on_node(n.name); })) {
      auto calendar = calendars_.find(label(pod.labels, kServiceLabel));
      if (label(pod.labels, kComponentLabel) != "clickhouse" || calendar == calendars_.end()) return now;
      std::chrono::seconds drain = drain_of(pod);
      first = std::min(first, drain_fits(calendar->second.at(now), now, drain)
                                  ? now
                                  : next_fitting_window(label(pod.labels, kServiceLabel), drain));
    }
  }
  return first == Instant::max() ? now : first - options_.replacement_lead;
}

bool Upgrader::failed_replacement_gone(const GroupRecord& g) {
  auto group = observe([&] { return eks_.describe_nodegroup(g.replacement); });
  if (!group) return true;
  busy_ = true;
  if (group->status == "CREATE_FAILED") {
    mutate("delete failed node group " + g.replacement, [&] {
      eks_.delete_nodegroup(g.replacement);
      return 0;
    });
    event("delete_node_group", g.replacement);
  }
  return false;
}

void Upgrader::prepare_old_nodes(const std::string& old_name, std::vector<std::pair<std::string, Pod>>& pods) {
  pods_left_.erase(old_name);
  if (!observe([&] { return eks_.describe_nodegroup(old_name); })) return;
  auto& left = pods_left_[old_name];
  const Taint taint{kUpgradeTaintKey, target_.target_version, "NoSchedule"};
  for (const Node& n : observe([&] { return kube_.list_nodes(kNodegroupLabel, old_name); })) {
    if (std::find(n.taints.begin(), n.taints.end(), taint) == n.taints.end() ||
        label(n.labels, kExcludeFromLbLabel) != "true") {
      mutate("taint node " + n.name, [&] {
        kube_.taint_and_label_node(n.name, taint, kExcludeFromLbLabel, "true");
        return 0;
      });
      event("taint", old_name, n.name);
    }
    if (!n.unschedulable) {
      mutate("cordon node " + n.name, [&] {
        kube_.cordon_node(n.name);
        return 0;
      });
      event("cordon", old_name, n.name);
    }
    std::vector<Pod> on_node = observe([&] { return kube_.list_pods_on_node(n.name); });
    left[n.name] = on_node.size();
    if (record_.quarantined.contains(n.name)) continue;
    for (Pod& p : on_node) pods.emplace_back(old_name, std::move(p));
  }
}

void Upgrader::drain(const std::vector<std::pair<std::string, Pod>>& pods) {
  if (pods.empty()) return;
  std::vector<Pdb> pdbs = observe([&] { return kube_.list_pdbs(); });
  for (const auto& [group, pod] : pods) {
    if (record_.quarantined.contains(pod.nodeName)) continue;
    if (!pod.terminating && timeline_.now() >= target_.deadline) {
      quarantine(group, pod.nodeName, "deadline");
      continue;
    }
    evict_one(group, pod, pdbs);
  }
}

bool Upgrader::evict_one(const std::string& group, const Pod& pod, std::vector<Pdb>& pdbs) {
  Instant now = timeline_.now();
  std::chrono::seconds drain = drain_of(pod);
  std::string service = label(pod.labels, kServiceLabel);
  if (pod.terminating) {
    busy_ = true;
    auto [at, observed] = record_.evicted_at.try_emplace(pod.name, unix_of(now));
    if (observed) save();  // evicted before a crash let us record it
    if (unix_of(now) >= at->second + drain.count() + target_.eviction_timeout.count()) {
      quarantine(group, pod.nodeName, "eviction_timeout");
    }
    return false;
  }
  if (label(pod.labels, kComponentLabel) == "clickhouse") {
    auto calendar = calendars_.find(service);
    if (calendar == calendars_.end() || !drain_fits(calendar->second.at(now), now, drain)) {
      if (calendar != calendars_.end()) wake_ = std::min(wake_, next_fitting_window(service, drain));
      // The timeout counts refusals in a row: waiting for a window ends a run of them.
      if (record_.blocked_since.erase(pod.name) > 0) save();
      return false;
    }
  }
  std::vector<Pdb*> budgets;
  bool refused = false, all_healthy = true;
  for (Pdb& b : pdbs) {
    if (!selects(b, pod)) continue;
    budgets.push_back(&b);
    if (b.disruptionsAllowed <= 0) {
      refused = true;
      all_healthy = all_healthy && b.currentHealthy >= b.expectedPods;
    }
  }
  if (refused) {
    busy_ = true;
    // Refused while every pod it guards is healthy: the budget itself forbids it (maxUnavailable 0), and
    // only the timeout ends the wait. Refused while one is down (a sibling draining): wait, no timer.
    if (all_healthy) {
      auto [since, fresh] = record_.blocked_since.try_emplace(pod.name, unix_of(now));
      if (fresh) save();
      if (unix_of(now) - since->second >= target_.eviction_timeout.count()) {
        quarantine(group, pod.nodeName, "eviction_timeout");
      }
    } else if (record_.blocked_since.erase(pod.name) > 0) {
      save();
    }
    return false;
  }
  busy_ = true;
  record_.intent = "evict pod " + pod.name;
  save();
  EvictionResult result;
  try {
    result = kube_.evict_pod(pod.name);  // once: after a backoff the window might no longer fit
  } catch (const Throttled&) {
    event("throttled", group, pod.nodeName, pod.name, service);
    return false;
  }
  crash_point();
  if (result != EvictionResult::kEvicted) return false;
  record_.evicted_at[pod.name] = unix_of(now);
  record_.blocked_since.erase(pod.name);
  save();
  for (Pdb* b : budgets) {
    --b->disruptionsAllowed;
    --b->currentHealthy;  // the evicted pod: no budget it is under may read as all healthy this pass
  }
  event("evict", group, pod.nodeName, pod.name, service);
  return true;
}

void Upgrader::quarantine(const std::string& group, const std::string& node, const std::string& reason) {
  if (!record_.quarantined.emplace(node, reason).second) return;
  save();
  event("quarantine", group, node);
}

bool Upgrader::old_group_done(const std::string& old_name, GroupRecord& g) {
  auto left = pods_left_.find(old_name);
  if (left == pods_left_.end()) return true;  // gone
  auto group = observe([&] { return eks_.describe_nodegroup(old_name); });
  if (!group) return true;
  if (group->status == "DELETING") {
    busy_ = true;
    return false;
  }
  bool quarantined = false;
  for (const auto& [node, pods] : left->second) {
    if (record_.quarantined.contains(node)) {
      quarantined = true;
    } else if (pods > 0) {
      return false;
    }
  }
  if (quarantined) {
    // Its quarantined nodes still hold pods that may not be forced off: the group stays.
    if (!g.kept) {
      g.kept = true;
      save();
      event("keep_node_group", old_name);
    }
    return true;
  }
  mutate("delete node group " + old_name, [&] {
    eks_.delete_nodegroup(old_name);
    return 0;
  });
  event("delete_node_group", old_name);
  busy_ = true;
  return false;
}

}  // namespace byoc::plan::upgrade
