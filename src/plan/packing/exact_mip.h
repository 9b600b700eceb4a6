// solve_exact: the packed placement as one mixed-integer program (GLPK branch and bound), for small instances.
//
// Representative formulation: replicas sorted largest first; replica i sits on "node j" (j ≤ i), where node j
// exists exactly when replica j is its lowest-indexed replica — so no two labelings of one packing are both
// feasible. Each node picks one non-dominated type (capacity rows in CPU and memory) and one zone; each replica's
// zone follows its node's. Anti-affinity: two replicas of a group never share a node (their x variables don't
// exist). Zone spread: per group and zone, between zone_min and zone_max replicas. Zones are interchangeable, so
// replica 0's node is put in zone 0. The heuristic plan is handed to GLPK as the first incumbent, and the LP lower
// bound as a cut.
//
// Not thread-safe (GLPK); no state between calls.
#pragma once

#include <optional>

#include "plan/packing/problem.h"

namespace byoc::plan::packing {

struct ExactResult {
  std::optional<Solution> solution;  // the best solution GLPK found (at least as good as the incumbent given)
  bool optimal = false;               // proven optimal within the time limit
};

ExactResult solve_exact(const Problem& problem, const Solution& incumbent, double lower_bound, int time_limit_ms);

}  // namespace byoc::plan::packing
