// solve_exact: the packed placement as one set-partitioning program solved by GLPK's branch and bound, for small
// instances.
//
// Every feasible node content is enumerated — a set of replicas without two of one group that the roomiest
// allowed type holds — priced at the cheapest type that holds it, once per zone. The program picks contents so
// each replica is covered exactly once and every group's count per zone stays within [zone_min, zone_max]. Its
// LP relaxation is far tighter than an assignment formulation's, so GLPK proves optimality quickly while the
// number of contents stays small; the enumeration gives up past a budget (the caller falls back to the
// heuristic and the LP bound).
//
// Not thread-safe (GLPK); no state between calls.
#pragma once

#include <optional>

#include "plan/packing/problem.h"

namespace byoc::plan::packing {

struct ExactResult {
  std::optional<Solution> solution;  // the best solution GLPK found
  bool optimal = false;               // proven optimal within the time limit
};

// `max_nodes` bounds GLPK's branch and bound (deterministic), `safety_time_limit_ms` its wall time (a safety net);
// `max_contents` bounds the enumeration (contents × zones).
ExactResult solve_exact(const Problem& problem, int64_t max_nodes, int safety_time_limit_ms,
                        int64_t max_contents = 200'000);

}  // namespace byoc::plan::packing
