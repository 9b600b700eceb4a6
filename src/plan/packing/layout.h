// Layout: a placement under construction, with the bookkeeping that makes the rule checks O(replicas on a node):
// each node's load, where each replica is, how many replicas of each group each zone holds and how many of each
// group are still unplaced. The heuristics (assignment, repair, improvement, scale-in) all edit a Layout; a
// replica may be pinned to its node (scale-in: it stays where it is unless counted as a migration).
//
// Not thread-safe; one solver owns it.
#pragma once

#include <vector>

#include "plan/packing/problem.h"

namespace byoc::plan::packing {

class Layout {
 public:
  explicit Layout(const Problem& problem);
  // Starts from `solution` (which may leave replicas unplaced).
  Layout(const Problem& problem, const Solution& solution);

  const Problem& problem() const { return *problem_; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  const Node& node(int n) const { return nodes_[n]; }
  bool empty(int n) const { return nodes_[n].replicas.empty(); }
  Resources load(int n) const { return load_[n]; }
  Resources free_room(int n) const { return problem_->types[nodes_[n].type].room - load_[n]; }
  int node_of(int replica) const { return node_of_[replica]; }
  int unplaced(int group) const { return unplaced_[group]; }
  int zone_count(int group, int zone) const { return zone_counts_[group][zone]; }

  void pin(int replica) { pinned_[replica] = 1; }
  bool pinned(int replica) const { return pinned_[replica] != 0; }

  int add_node(int type, int zone, int origin = -1);
  void set_type(int n, int type) { nodes_[n].type = type; }
  void set_origin(int n, int origin) { nodes_[n].origin = origin; }
  void unpin(int replica) { pinned_[replica] = 0; }
  // Rules only (anti-affinity, zone limits, and that the group's remaining replicas can still reach every zone's
  // minimum); not the room.
  bool rules_allow(int replica, int n) const;
  bool zone_allows(int replica, int zone) const;
  bool node_has_group(int n, int group) const;
  bool can_place(int replica, int n) const {
    return rules_allow(replica, n) && problem_->replicas[replica].size.fits_in(free_room(n));
  }
  void place(int replica, int n);
  void remove(int replica);

  // The non-empty nodes as a Solution.
  Solution solution() const;
  double cost() const;

 private:
  const Problem* problem_;
  std::vector<Node> nodes_;
  std::vector<Resources> load_;
  std::vector<int> node_of_;
  std::vector<int> unplaced_;
  std::vector<std::vector<int>> zone_counts_;
  std::vector<char> pinned_;
};

}  // namespace byoc::plan::packing
