// solve_knapsack_2d: the column generation's pricing problem — choose how many copies of each item (bounded) to
// put on one node so the value is largest while CPU and memory both fit. Exact depth-first branch and bound:
// items in order of value per surrogate weight (CPU and memory shares mixed by the multiplier that minimises the
// root's surrogate bound, so the root bound equals the LP relaxation's), and at every node the least of three
// fractional bounds (surrogate, CPU alone, memory alone). A node budget keeps it bounded; when it runs out the
// result says so and carries a valid upper bound instead of the optimum.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "plan/allocatable.h"

namespace byoc::plan::packing {

struct KnapsackItem {
  Resources size;
  int max_count = 0;
  double value = 0;
};

struct KnapsackResult {
  std::vector<int> counts;  // per item
  double value = 0;
  double upper_bound = 0;  // no choice is worth more
  bool proven = false;     // the search finished: upper_bound = max(value, target)
};

// `target`: only solutions worth more than it matter (the pricing asks "is any pattern worth more than the node
// costs?"), so the search prunes against it from the start; when none exists, upper_bound is the target. Once a
// solution above the target is known the search stops after a short while (not proven, upper_bound from the
// root relaxation): the column generation needs a good column then, not the best one.
KnapsackResult solve_knapsack_2d(const std::vector<KnapsackItem>& items, const Resources& room, double target = 0,
                                 int64_t node_budget = 1'000'000);

// Exact dynamic programme for when the CPU sizes share a coarse grid (whole cores, or the trace's 100m): over CPU
// used in grid steps, the Pareto front of (memory used, value). nullopt when the grid is too fine or the fronts
// grow past `work_budget` entries; the caller then uses the branch and bound.
std::optional<KnapsackResult> solve_knapsack_2d_dp(const std::vector<KnapsackItem>& items, const Resources& room,
                                                  int64_t work_budget = 300'000);

}  // namespace byoc::plan::packing
