// Price-and-branch for the packed heuristic, in two steps:
//
// - solve_integer_master: after the column generation, the restricted master as an integer program over the
//   generated patterns: min Σ c_p n_p, Σ_p a_kp n_p ≥ demand_k, n_p ∈ ℕ. Zones are left out here, as in the LP:
//   with them GLPK's branch and bound finds good integer points far more slowly (branching on one zone's count is
//   weak, and rounding up no longer keeps a point feasible). Every improving solution the search finds is kept,
//   so the caller can realise a few and take the cheapest.
// - choose_zones: a zone for each node of such a solution, by a second small integer program: per (class, zone)
//   the slots opened there hold at most what the zone spread lets the zone take (given what the base layout
//   already holds), and the value of the replicas the slots can take is as large as possible — all of them when
//   the nodes allow it. assign_patterns then fills the slots; what doesn't fit goes to the repair.
//
// Deterministic: both searches stop after a number of branch-and-bound nodes, not a time (a wall-clock limit
// remains only as a safety net for pathological inputs; it is far above what the benchmark needs). Not
// thread-safe (GLPK); no state between calls.
#pragma once

#include <cstdint>
#include <vector>

#include "plan/packing/column_generation.h"
#include "plan/packing/layout.h"

namespace byoc::plan::packing {

struct IntegerMasterLimits {
  // Patterns offered to the program: the LP's support, then the least reduced cost at the LP's duals.
  int max_patterns = 2000;
  // Branch-and-bound nodes GLPK may create.
  int64_t max_nodes = 2000;
  // How many of the last (cheapest) integer solutions found to return.
  int keep = 3;
  int safety_time_limit_ms = 60000;
};

// Integer solutions as copies per pattern of gg.patterns, cheapest first (at most limits.keep). `start` (copies
// per pattern, may be empty) is a known integer solution the search begins from when it covers the demand;
// the ceiling of the LP is the other start, and the cheaper one is used.
std::vector<std::vector<int>> solve_integer_master(const Problem& problem, const GilmoreGomory& gg,
                                                   const std::vector<int>& start, const IntegerMasterLimits& limits);

// A zone for each of `nodes` (new nodes to add to `base`, holding gg.classes's replicas), or an empty vector when
// GLPK finds nothing (assign_patterns then chooses). `class_value`: what one replica of each class is worth
// (the LP's duals).
std::vector<int> choose_zones(const Layout& base, const std::vector<ItemClass>& classes,
                              const std::vector<double>& class_value, const std::vector<Pattern>& nodes,
                              const IntegerMasterLimits& limits);

}  // namespace byoc::plan::packing
