// Problem and Solution: the placement planner's internal, index-based view of a PlacementInput — usable node
// types with their allocatable and price, replicas with their anti-affinity group, the zone-spread limits of each
// group — and a placement as a list of nodes (type, zone, replica indices). Everything in plan/packing works on
// these; placement.cc converts to and from the public types.
//
// Plain values; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/placement.h"

namespace byoc::plan::packing {

struct NodeType {
  std::string name;
  Resources room;  // allocatable for replicas
  double price = 0;
};

struct Replica {
  std::string id;
  int group = 0;
  Resources size;
};

// Replicas of one (service, shard): never two on a node, spread over zones.
struct Group {
  std::string service;
  std::string shard;
  std::vector<int> replicas;
  int zone_min = 0;  // per zone, floor(r / Z)
  int zone_max = 1;  // per zone, ceil(r / Z)
};

struct Problem {
  std::vector<NodeType> types;  // allowed types with positive room, cheapest first
  std::vector<std::string> zones;
  std::vector<Replica> replicas;
  std::vector<Group> groups;

  // Cheapest type whose room holds `need`; -1 when none does.
  int cheapest_fit(const Resources& need) const;
  int zone_count() const { return static_cast<int>(zones.size()); }
};

struct Node {
  int type = 0;
  int zone = 0;
  std::vector<int> replicas;
  // Scale-in: the node continues a node of the current plan (its type and zone can't change, its pinned replicas
  // can't leave).
  int origin = -1;
};

struct Solution {
  std::vector<Node> nodes;

  double cost(const Problem& problem) const;
};

// Builds the index view. Throws byoc::Error (invalid) for unknown types, no usable type, or a replica no type fits.
Problem make_problem(const PlacementInput& input, const Catalogue& catalogue);

// Zone-spread limits for a group of r replicas over z zones.
int zone_min_for(int replicas, int zones);
int zone_max_for(int replicas, int zones);

Resources load_of(const Problem& problem, const Node& node);

}  // namespace byoc::plan::packing
