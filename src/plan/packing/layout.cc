#include "plan/packing/layout.h"

#include <algorithm>

namespace byoc::plan::packing {

Layout::Layout(const Problem& problem)
    : problem_(&problem),
      node_of_(problem.replicas.size(), -1),
      unplaced_(problem.groups.size(), 0),
      zone_counts_(problem.groups.size(), std::vector<int>(problem.zones.size(), 0)),
      pinned_(problem.replicas.size(), 0) {
  for (size_t g = 0; g < problem.groups.size(); ++g) {
    unplaced_[g] = static_cast<int>(problem.groups[g].replicas.size());
  }
}

Layout::Layout(const Problem& problem, const Solution& solution) : Layout(problem) {
  for (const auto& n : solution.nodes) {
    int id = add_node(n.type, n.zone, n.origin);
    for (int r : n.replicas) place(r, id);
  }
}

int Layout::add_node(int type, int zone, int origin) {
  nodes_.push_back(Node{type, zone, {}, origin});
  load_.push_back(Resources{});
  return static_cast<int>(nodes_.size()) - 1;
}

bool Layout::node_has_group(int n, int group) const {
  for (int r : nodes_[n].replicas) {
    if (problem_->replicas[r].group == group) return true;
  }
  return false;
}

bool Layout::zone_allows(int replica, int zone) const {
  const Group& g = problem_->groups[problem_->replicas[replica].group];
  int gi = problem_->replicas[replica].group;
  if (zone_counts_[gi][zone] + 1 > g.zone_max) return false;
  // After this placement the group's other unplaced replicas must still be able to lift every zone to its minimum.
  int deficit = 0;
  for (int z = 0; z < problem_->zone_count(); ++z) {
    int count = zone_counts_[gi][z] + (z == zone ? 1 : 0);
    deficit += std::max(0, g.zone_min - count);
  }
  return deficit <= unplaced_[gi] - 1;
}

bool Layout::rules_allow(int replica, int n) const {
  if (node_of_[replica] >= 0) return false;
  return zone_allows(replica, nodes_[n].zone) && !node_has_group(n, problem_->replicas[replica].group);
}

void Layout::place(int replica, int n) {
  const Replica& r = problem_->replicas[replica];
  nodes_[n].replicas.push_back(replica);
  load_[n] += r.size;
  node_of_[replica] = n;
  --unplaced_[r.group];
  ++zone_counts_[r.group][nodes_[n].zone];
}

void Layout::remove(int replica) {
  int n = node_of_[replica];
  if (n < 0) return;
  const Replica& r = problem_->replicas[replica];
  auto& list = nodes_[n].replicas;
  list.erase(std::find(list.begin(), list.end(), replica));
  load_[n] -= r.size;
  node_of_[replica] = -1;
  ++unplaced_[r.group];
  --zone_counts_[r.group][nodes_[n].zone];
}

Solution Layout::solution() const {
  Solution s;
  for (const auto& n : nodes_) {
    if (!n.replicas.empty()) s.nodes.push_back(n);
  }
  return s;
}

double Layout::cost() const {
  double total = 0;
  for (const auto& n : nodes_) {
    if (!n.replicas.empty()) total += problem_->types[n.type].price;
  }
  return total;
}

}  // namespace byoc::plan::packing
