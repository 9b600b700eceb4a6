// solve_packed: the `packed` placement. Every instance gets the Gilmore–Gomory bound and the column-generation
// rounding heuristic: price-and-branch (the zone-free integer master's last few solutions, zones chosen by a small
// integer program, then the zoned master on their contents when it is small), the LP's ceiling and floor, and
// price-and-dive, each turned into nodes by assign_patterns, repaired (ejection chains first, ejection.h) and
// improved; the cheapest of these and of a greedy cheapest-insertion plan wins, and solve_packed then re-packs
// its most wasteful nodes (resolve.h). Small instances (≤ exact_max_replicas) then go to the exact MIP unless
// the heuristic already meets the bound.
//
// Also used by the scale-in re-placement for the replicas it releases (`replicas` then lists them, and `layout`
// already holds the kept nodes).
//
// Not thread-safe (GLPK); no state between calls.
#pragma once

#include <vector>

#include "plan/packing/column_generation.h"
#include "plan/packing/layout.h"
#include "plan/packing/problem.h"

namespace byoc::plan::packing {

struct PackedResult {
  Solution solution;
  double lower_bound = 0;
  bool optimal = false;  // proven by the exact MIP
  // Per replica, the dual value of its class in the Gilmore–Gomory LP: its fair share of the $/h.
  std::vector<double> replica_value;
};

PackedResult solve_packed(const Problem& problem, const PlannerOptions& options);

// Places `replicas` (unplaced in `base`) into `base`'s free room and new nodes by the rounding heuristic; returns
// the best layout found. `gg` (if not null) receives the column generation for packing `replicas` alone.
Layout pack_into(const Layout& base, const std::vector<int>& replicas, const PlannerOptions& options,
                 GilmoreGomory* gg = nullptr);

}  // namespace byoc::plan::packing
