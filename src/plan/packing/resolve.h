// resolve_neighbourhoods: large-neighbourhood search on a finished packed layout (solve_packed runs it last). The rounding heuristics decide
// zones late, and what is left dear is usually a handful of nodes whose contents the LP values at much less than
// their price. Each round empties a few such nodes and packs their replicas again with the whole heuristic
// (pack_into: free room of the other nodes, new nodes from its own column generation, the zone spread given the
// rest); the result is kept only when it is cheaper, so the layout never gets dearer.
//
// Which nodes: ranked by waste (price minus the LP value of the replicas they hold), round i takes the window of
// `resolve_nodes` nodes starting at i·resolve_nodes/2 of that ranking, re-ranked after every success. Nodes
// holding a pinned replica are never chosen; at most resolve_max_work / nodes rounds. Deterministic (the inner heuristic has work limits).
// Not thread-safe (GLPK).
#pragma once

#include <vector>

#include "plan/packing/layout.h"
#include "plan/placement.h"

namespace byoc::plan::packing {

// `replica_value`: the LP's worth of each replica (0 for those it didn't price). Returns the $/h saved.
double resolve_neighbourhoods(Layout& layout, const std::vector<double>& replica_value,
                              const PlannerOptions& options);

}  // namespace byoc::plan::packing
