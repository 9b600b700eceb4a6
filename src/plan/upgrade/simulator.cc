// The simulator's EKS and Kubernetes calls: each settles the world to now,
// may be throttled, then answers or acts as the real API does.
#include <algorithm>

#include "base/error.h"
#include "plan/upgrade/simulator.h"

namespace byoc::plan::upgrade {

Cluster Simulator::describe_cluster() {
  call(false);
  return {cluster_name_, cluster_version_, cluster_update_ ? "UPDATING" : "ACTIVE"};
}

std::string Simulator::update_cluster_version(const std::string& version, const std::string& clientRequestToken) {
  call(true);
  auto seen = update_tokens_.find(clientRequestToken);
  if (seen != update_tokens_.end()) return seen->second;
  if (cluster_update_) throw Error::Conflict("ResourceInUseException", "an update is in progress");
  if (minor_of(version, "version") != minor_of(cluster_version_, "version") + 1) {
    throw Error::Invalid("InvalidParameterException", "the control plane moves one minor at a time", "version");
  }
  cluster_update_ = {version, now() + durations_.control_plane_per_minor};
  std::string id = "update-" + std::to_string(update_tokens_.size() + 1);
  update_tokens_[clientRequestToken] = id;
  return id;
}

std::vector<std::string> Simulator::list_nodegroups() {
  call(false);
  std::vector<std::string> names;
  for (const auto& [name, g] : groups_) names.push_back(name);
  return names;
}

std::optional<Nodegroup> Simulator::describe_nodegroup(const std::string& nodegroupName) {
  call(false);
  auto it = groups_.find(nodegroupName);
  if (it == groups_.end()) return std::nullopt;
  return it->second.spec;
}

void Simulator::create_nodegroup(const CreateNodegroupRequest& request) {
  call(true);
  auto it = groups_.find(request.nodegroupName);
  if (it != groups_.end()) {
    if (it->second.token == request.clientRequestToken) return;  // the same request again
    throw Error::Conflict("ResourceInUseException", "node group " + request.nodegroupName + " exists");
  }
  auto profile = request.labels.find(kProfileLabel);
  if (profile == request.labels.end()) throw Error::Invalid("InvalidParameterException", "no profile label", "labels");
  if (minor_of(request.version, "version") > minor_of(cluster_version_, "version")) {
    throw Error::Invalid("InvalidParameterException", "nodes can't be newer than the control plane", "version");
  }
  Instant t = now();
  SimGroup g;
  g.spec = {request.nodegroupName, request.version, "CREATING", request.instanceTypes, request.desiredSize,
            request.labels};
  g.token = request.clientRequestToken;
  g.created = t;
  int& failures = create_failures_[profile->second];
  g.fails = failures > 0;
  failures -= g.fails;
  g.due = t + (g.fails ? durations_.create_failure_after : durations_.node_ready);
  if (!g.fails) {
    ++nodegroups_created_;
    for (int i = 0; i < request.desiredSize; ++i) {
      std::string name = request.nodegroupName + "-" + std::to_string(i);
      std::map<std::string, std::string> labels = request.labels;
      labels[kNodegroupLabel] = request.nodegroupName;
      nodes_[name] = {name, request.nodegroupName, labels, g.due, false, {}};
    }
  }
  groups_[request.nodegroupName] = g;
}

void Simulator::delete_nodegroup(const std::string& nodegroupName) {
  call(true);
  auto it = groups_.find(nodegroupName);
  if (it == groups_.end()) throw Error::NotFound("ResourceNotFoundException: " + nodegroupName);
  if (it->second.spec.status == "DELETING") return;
  if (it->second.spec.status == "CREATING") throw Error::Conflict("ResourceInUseException", "still creating");
  it->second.spec.status = "DELETING";
  it->second.due = now() + durations_.nodegroup_delete;
}

std::optional<Addon> Simulator::describe_addon(const std::string& addonName) {
  call(false);
  auto it = addons_.find(addonName);
  if (it == addons_.end()) return std::nullopt;
  return it->second.addon;
}

void Simulator::update_addon(const std::string& addonName, const std::string& addonVersion,
                             const std::string& clientRequestToken) {
  call(true);
  auto it = addons_.find(addonName);
  if (it == addons_.end()) throw Error::NotFound("ResourceNotFoundException: " + addonName);
  if (!it->second.tokens.insert(clientRequestToken).second) return;
  if (it->second.addon.status == "UPDATING") throw Error::Conflict("ResourceInUseException", "already updating");
  it->second.addon.addonVersion = addonVersion;
  it->second.addon.status = "UPDATING";
  it->second.due = now() + durations_.addon_update;
}

std::vector<Node> Simulator::list_nodes(const std::string& label_key, const std::string& label_value) {
  call(false);
  Instant t = now();
  std::vector<Node> out;
  for (const auto& [name, n] : nodes_) {
    auto label = n.labels.find(label_key);
    if (label == n.labels.end() || label->second != label_value) continue;
    out.push_back({name, n.labels, n.ready_at <= t, n.unschedulable, n.taints});
  }
  return out;
}

void Simulator::taint_and_label_node(const std::string& node, const Taint& taint, const std::string& label,
                                     const std::string& label_value) {
  call(true);
  SimNode& n = node_named(node);
  if (std::find(n.taints.begin(), n.taints.end(), taint) == n.taints.end()) n.taints.push_back(taint);
  n.labels[label] = label_value;
}

void Simulator::cordon_node(const std::string& node) {
  call(true);
  node_named(node).unschedulable = true;
}

std::vector<Pod> Simulator::list_pods_on_node(const std::string& node) {
  call(false);
  Instant t = now();
  std::vector<Pod> out;
  for (const auto& [name, p] : pods_) {
    if (p.node != node) continue;
    std::map<std::string, std::string> labels = {{kServiceLabel, p.spec.service},
                                                 {kComponentLabel, p.spec.clickhouse ? "clickhouse" : "system"}};
    if (!p.spec.shard.empty()) labels[kShardLabel] = p.spec.shard;
    out.push_back({name, node, labels, {{kDrainSecondsAnnotation, std::to_string(p.spec.drain.count())}},
                   pod_ready(p, t), p.terminating});
  }
  return out;
}

EvictionResult Simulator::evict_pod(const std::string& pod) {
  call(true);
  auto it = pods_.find(pod);
  if (it == pods_.end() || it->second.node.empty()) return EvictionResult::kNotFound;
  SimPod& p = it->second;
  if (p.terminating) return EvictionResult::kEvicted;
  Instant t = now();
  if (pod_ready(p, t)) {
    for (const FleetPdb& pdb : pdbs_) {
      if (selects(pdb, p) && unavailable(pdb, t) + 1 > pdb.max_unavailable) return EvictionResult::kBudgetRefused;
    }
  }
  p.terminating = true;
  p.gone_at = t + p.spec.drain;
  evictions_.push_back({t, pod, p.spec.service, p.node, p.spec.clickhouse, p.spec.drain});
  check_pdbs(t);
  return EvictionResult::kEvicted;
}

std::vector<Pdb> Simulator::list_pdbs() {
  call(false);
  Instant t = now();
  std::vector<Pdb> out;
  for (const FleetPdb& pdb : pdbs_) {
    Pdb p;
    p.name = pdb.name;
    p.matchLabels[kServiceLabel] = pdb.service;
    if (!pdb.shard.empty()) p.matchLabels[kShardLabel] = pdb.shard;
    for (const auto& [name, pod] : pods_) {
      if (!selects(pdb, pod)) continue;
      ++p.expectedPods;
      p.currentHealthy += pod_ready(pod, t);
    }
    p.disruptionsAllowed = std::max(0, p.currentHealthy - (p.expectedPods - pdb.max_unavailable));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace byoc::plan::upgrade
