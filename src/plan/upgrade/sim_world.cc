// The simulator's world: its construction from a fleet, time moving it on,
// pods finding nodes, budgets measured, and what the tests read back.
#include <algorithm>

#include "base/error.h"
#include "plan/upgrade/simulator.h"

namespace byoc::plan::upgrade {

Instant SimTimeline::now() const { return std::chrono::floor<std::chrono::seconds>(clock_.system_time()); }

void SimTimeline::wait_until(Instant t) {
  Instant n = now();
  if (t > n) clock_.advance(std::chrono::duration_cast<std::chrono::microseconds>(t - n));
}

Simulator::Simulator(const Fleet& fleet, uint64_t seed, const ManualClock& clock, SimDurations durations)
    : clock_(clock),
      durations_(durations),
      rng_(seed),
      throttle_percent_(fleet.faults.throttle_percent),
      pdbs_(fleet.pdbs),
      cluster_name_(fleet.cluster_name),
      cluster_version_(fleet.cluster_version) {
  Instant t = now();
  for (const FleetNodeGroup& g : fleet.node_groups) {
    SimGroup group;
    group.spec = {g.name, g.version, "ACTIVE", {g.instance_type}, g.nodes, {{kProfileLabel, g.name}}};
    group.created = t;
    group.due = t;
    group.original = true;
    groups_[g.name] = group;
    for (int i = 0; i < g.nodes; ++i) {
      std::string name = g.name + "-" + std::to_string(i);
      nodes_[name] = {name, g.name, {{kNodegroupLabel, g.name}, {kProfileLabel, g.name}}, t, false, {}};
    }
    auto failures = fleet.faults.create_failures.find(g.name);
    if (failures != fleet.faults.create_failures.end()) create_failures_[g.name] = failures->second;
  }
  for (const FleetPod& p : fleet.pods) {
    SimPod pod;
    pod.spec = p;
    pod.profile = nodes_.at(p.node).group;
    pod.node = p.node;
    pod.ready_at = t;
    pod.stuck = std::find(fleet.faults.stuck_pods.begin(), fleet.faults.stuck_pods.end(), p.name) !=
                fleet.faults.stuck_pods.end();
    pods_[p.name] = pod;
  }
  for (const FleetAddon& a : fleet.addons) addons_[a.name] = {{a.name, a.version, "ACTIVE"}, t, {}};
}

Instant Simulator::now() const { return std::chrono::floor<std::chrono::seconds>(clock_.system_time()); }

void Simulator::call(bool mutating) {
  settle();
  mutating_calls_ += mutating;
  if (throttle_percent_ > 0 && static_cast<int>(rng_() % 100) < throttle_percent_) {
    throw Throttled("429 Too Many Requests");
  }
}

Simulator::SimPod& Simulator::pod_named(const std::string& name) {
  auto it = pods_.find(name);
  if (it == pods_.end()) throw Error::NotFound("no pod " + name);
  return it->second;
}

Simulator::SimNode& Simulator::node_named(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) throw Error::NotFound("no node " + name);
  return it->second;
}

void Simulator::settle() {
  Instant t = now();
  while (settle_one(t)) {
  }
}

// The earliest change due by `now`, applied; false when none is.
bool Simulator::settle_one(Instant now) {
  enum class Kind { kNone, kCluster, kGroup, kPod, kAddon } kind = Kind::kNone;
  Instant due = Instant::max();
  std::string which;
  auto consider = [&](Kind k, Instant t, const std::string& name) {
    if (t <= now && t < due) kind = k, due = t, which = name;
  };
  if (cluster_update_) consider(Kind::kCluster, cluster_update_->second, "");
  for (const auto& [name, g] : groups_) {
    if (g.spec.status == "CREATING" || g.spec.status == "DELETING") consider(Kind::kGroup, g.due, name);
  }
  for (const auto& [name, p] : pods_) {
    if (p.terminating && !p.stuck) consider(Kind::kPod, p.gone_at, name);
  }
  for (const auto& [name, a] : addons_) {
    if (a.addon.status == "UPDATING") consider(Kind::kAddon, a.due, name);
  }
  switch (kind) {
    case Kind::kNone:
      return false;
    case Kind::kCluster:
      cluster_version_ = cluster_update_->first;
      cluster_update_.reset();
      break;
    case Kind::kGroup: {
      SimGroup& g = groups_.at(which);
      if (g.spec.status == "DELETING") {
        remove_group(which, due);
      } else if (g.fails) {
        g.spec.status = "CREATE_FAILED";
      } else {
        g.spec.status = "ACTIVE";
        place_pending(due);
      }
      break;
    }
    case Kind::kPod: {
      SimPod& p = pods_.at(which);
      p.terminating = false;
      p.node.clear();
      place_pending(due);
      break;
    }
    case Kind::kAddon:
      addons_.at(which).addon.status = "ACTIVE";
      break;
  }
  return true;
}

void Simulator::remove_group(const std::string& name, Instant t) {
  const SimGroup& g = groups_.at(name);
  if (g.original) old_group_gone_[g.spec.labels.at(kProfileLabel)] = t;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->second.group != name) {
      ++it;
      continue;
    }
    for (auto& [pod_name, p] : pods_) {
      if (p.node != it->first) continue;
      // What EKS does after its own 15-minute drain: the pod dies whatever its budget says.
      bool was_ready = pod_ready(p, t);
      p.node.clear();
      p.terminating = false;
      ++killed_pods_;
      if (was_ready) check_pdbs(t);
    }
    it = nodes_.erase(it);
  }
  groups_.erase(name);
  place_pending(t);
}

void Simulator::place_pending(Instant t) {
  for (auto& [name, p] : pods_) {
    if (!p.node.empty()) continue;
    const SimNode* best = nullptr;
    std::size_t best_load = 0;
    for (const auto& [node_name, n] : nodes_) {
      const SimGroup& g = groups_.at(n.group);
      bool schedulable = n.ready_at <= t && !n.unschedulable && g.spec.status == "ACTIVE" &&
                         g.spec.labels.at(kProfileLabel) == p.profile &&
                         std::none_of(n.taints.begin(), n.taints.end(),
                                      [](const Taint& taint) { return taint.effect == "NoSchedule"; });
      if (!schedulable) continue;
      std::size_t load = std::count_if(pods_.begin(), pods_.end(),
                                       [&](const auto& other) { return other.second.node == node_name; });
      if (best == nullptr || load < best_load) best = &n, best_load = load;
    }
    if (best == nullptr) continue;
    p.node = best->name;
    p.ready_at = t + durations_.pod_ready;
  }
}

bool Simulator::pod_ready(const SimPod& pod, Instant t) const {
  return !pod.node.empty() && !pod.terminating && pod.ready_at <= t;
}

bool Simulator::selects(const FleetPdb& pdb, const SimPod& pod) const {
  return pod.spec.service == pdb.service && (pdb.shard.empty() || pod.spec.shard == pdb.shard);
}

int Simulator::unavailable(const FleetPdb& pdb, Instant t) const {
  int n = 0;
  for (const auto& [name, p] : pods_) n += selects(pdb, p) && !pod_ready(p, t);
  return n;
}

void Simulator::check_pdbs(Instant t) {
  for (const FleetPdb& pdb : pdbs_) pdb_violations_ += unavailable(pdb, t) > pdb.max_unavailable;
}

double Simulator::surge_node_hours() {
  settle();
  Instant t = now();
  double hours = 0;
  for (const auto& [name, g] : groups_) {
    if (g.original || g.fails) continue;
    auto gone = old_group_gone_.find(g.spec.labels.at(kProfileLabel));
    Instant until = gone == old_group_gone_.end() ? t : gone->second;
    Instant up = g.created;  // instances are billed from launch, Ready or not
    if (until > up) hours += g.spec.desiredSize * std::chrono::duration<double>(until - up).count() / 3600.0;
  }
  return hours;
}

WorldSummary Simulator::summary() {
  settle();
  WorldSummary s;
  s.cluster_version = cluster_version_;
  for (const auto& [name, g] : groups_) {
    s.node_groups[name] = g.spec.version + " " + g.spec.status + " " + std::to_string(g.spec.desiredSize);
  }
  for (const auto& [name, a] : addons_) s.addons[name] = a.addon.addonVersion;
  for (const auto& [name, p] : pods_) s.pod_groups[name] = p.node.empty() ? "" : nodes_.at(p.node).group;
  return s;
}

}  // namespace byoc::plan::upgrade
