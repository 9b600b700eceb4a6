// The placement planner: puts ClickHouse replicas on EC2 nodes at the lowest $/h it can prove near-optimal.
//
// Rules every plan obeys: each replica on exactly one node within the node's allocatable; two replicas of one
// (service, shard) never on one node; the replicas of one (service, shard) spread over the zones — distinct zones
// while there are at least as many zones as replicas, otherwise between floor(r/Z) and ceil(r/Z) per zone.
//
// Modes: `dedicated` (one replica per node: solved exactly) and `packed` (replicas share nodes: exact MIP up to
// PlannerOptions::exact_max_replicas, above that a column-generation rounding heuristic certified by the
// Gilmore–Gomory LP bound). `plan_scale_in` re-places an existing plan after replica sizes changed, moving at most
// K replicas. docs/placement.md describes the formats, the algorithms and the measured limits.
//
// Pure: no I/O. The solvers stop on work limits (iterations, branch-and-bound nodes: PlannerOptions), so a result
// doesn't depend on machine speed; the only clock read is a safety-net time limit far above them. Each call keeps its own solver state; GLPK is not thread-safe, so call
// from one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plan/allocatable.h"
#include "plan/catalogue.h"

namespace byoc::plan {

enum class PlacementMode { kDedicated, kPacked };

struct ReplicaRequest {
  std::string id;
  std::string service;
  std::string shard;  // the JSON shard (number or string), as text
  Resources size;
};

struct PlacementInput {
  PlacementMode mode = PlacementMode::kPacked;
  std::vector<std::string> zones;
  std::vector<std::string> instance_types;  // empty: every catalogue type
  AllocatablePolicy allocatable;
  std::vector<ReplicaRequest> replicas;
};

enum class BoundKind {
  kExact,           // the plan is proven optimal; the bound equals its cost
  kGilmoreGomory,   // LP relaxation of the pattern formulation, by column generation (zones relaxed)
};

struct CostBound {
  BoundKind kind = BoundKind::kExact;
  double cost_per_hour = 0;
};

struct PlannedNode {
  std::string type;
  std::string zone;
  std::vector<std::string> replicas;
};

struct NodeGroupCount {
  std::string name;  // "byoc-m7gd-large-us-east-1a"
  std::string type;
  std::string zone;
  int count = 0;
};

struct PlacementPlan {
  double cost_per_hour = 0;
  CostBound bound;
  std::vector<PlannedNode> nodes;
  std::vector<NodeGroupCount> node_groups;
  // Only for a re-placement (plan_scale_in): replicas that change node, and $/h saved against the current plan.
  std::optional<std::vector<std::string>> migrations;
  std::optional<double> saving_per_hour;
};

// A previous plan: only its nodes matter.
struct CurrentPlan {
  std::vector<PlannedNode> nodes;
};

struct PlannerOptions {
  // Largest packed instance (replicas) handed to the exact MIP; measured in docs/placement.md.
  int exact_max_replicas = 12;
  // Work limits. They count iterations and branch-and-bound nodes, not time, so one input gives one plan on any
  // machine and under any load.
  int64_t exact_max_nodes = 20000;           // exact MIP
  int bound_max_iterations = 5000;           // column generation: master solves
  int integer_master_max_patterns = 2000;    // price-and-branch: patterns offered to the integer master
  int64_t integer_master_max_nodes = 2000;   // price-and-branch: branch-and-bound nodes, and at most
  int64_t integer_master_max_work = 60000;   // ... this over the item classes (each node's LP grows with them)
  int64_t zone_choice_max_nodes = 200;       // zones for a rounded solution's nodes: branch-and-bound nodes
  int64_t zoned_master_max_nodes = 2000;     // zones restored on the rounded contents: branch-and-bound nodes
  int zoned_master_max_columns = 1000;       // ... and (contents × zones) past which it is skipped
  int dive_max_rounds = 200;                 // price-and-dive: residual re-solves, and at most
  int64_t dive_max_work = 6000;              // ... this over the item classes
  int dive_max_iterations = 200;             // price-and-dive: master solves per re-solve
  // false: the column generation inside the rounding prices heuristically and certifies nothing — for the
  // re-packings whose bound nobody reads (scale-in candidates, neighbourhoods).
  bool prove_bound = true;
  int resolve_rounds = 12;                   // neighbourhoods re-packed on the finished layout (resolve.h)
  int resolve_nodes = 8;                     // ... nodes emptied in each
  int64_t resolve_ejection_visits = 1000000; // ... and the ejection allowance of each round's re-packing
  int64_t resolve_max_work = 1500;           // ... and at most this over the layout's nodes, rounds
  int ejection_depth = 2;                    // repair and node elimination: replicas moved per chain
  int64_t ejection_max_visits = 5000000;     // ... node visits per call (packing/ejection.h)
  // Safety net per solver call for pathological inputs, far above what the limits above take on the benchmark;
  // only when it hits does a plan depend on the machine's speed.
  int safety_time_limit_ms = 120000;
};

// Throws byoc::Error (invalid) for inputs no plan can satisfy: "replica_too_large" (field "replicas[i]") when no
// allowed type fits a replica, "unknown_instance_type", "no_usable_instance_type".
PlacementPlan plan_placement(const PlacementInput& input, const Catalogue& catalogue,
                             const PlannerOptions& options = {});

// Re-places `current` for the replicas (and sizes) of `input`: replicas missing from `current` are new (not
// migrations), replicas of `current` missing from `input` are gone. A replica migrates when the node it ends on is
// not the node it was on (a node that changes type is a new node). max_migrations < 0: no limit. Throws
// byoc::Error (invalid) "max_migrations_too_small" (field "max_migrations") when the current plan can't be kept
// valid with so few moves (e.g. a replica grew past its node), plus the errors of plan_placement.
PlacementPlan plan_scale_in(const PlacementInput& input, const CurrentPlan& current, int max_migrations,
                            const Catalogue& catalogue, const PlannerOptions& options = {});

std::string_view to_string(PlacementMode mode);
std::string_view to_string(BoundKind kind);

}  // namespace byoc::plan
