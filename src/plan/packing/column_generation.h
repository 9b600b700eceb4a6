// Gilmore–Gomory column generation for the placement LP: the lower bound that certifies the packed heuristic, and
// the patterns the heuristic rounds.
//
// Replicas are grouped into item classes: replicas of one anti-affinity group with one size form an item group;
// item groups with the same size and the same replica count form a class. A pattern (one node of one type) holds
// at most one replica of each item group, so at most |item groups| of a class: anti-affinity is kept in the LP and
// in the pricing, and by symmetry the class-level LP equals the per-group one. Relaxed for the bound, and so
// documented: the zone spread (any placement's nodes, forgetting their zones, is a feasible LP point), and
// anti-affinity between item groups of one group that have different sizes (a rare input).
//
// The master LP is GLPK's simplex. Pricing is a bounded two-dimensional integer knapsack per node type: a greedy
// pass first, then the exact knapsack (packing/knapsack.h) for every non-dominated type, at a point smoothed
// towards the best duals seen (Wentges). The bound is Farley's (the dual value of the priced point divided by the
// largest pattern value per dollar) at every exact round — valid whenever the generation stops. Columns within
// 0.1% of pricing out are ignored and the generation stops once the bound is within 0.2% of the master's value;
// a final exact round with no tolerance lifts the bound to the master's value when it can prove it.
//
// Not thread-safe (GLPK); keeps no state between calls.
#pragma once

#include <vector>

#include "plan/packing/problem.h"

namespace byoc::plan::packing {

// Replicas of one group with one size.
struct ItemGroup {
  int group = 0;
  std::vector<int> replicas;
};

struct ItemClass {
  Resources size;
  int per_group = 0;  // replicas in each of its item groups
  std::vector<ItemGroup> item_groups;

  int demand() const { return per_group * static_cast<int>(item_groups.size()); }
  int max_per_node() const { return static_cast<int>(item_groups.size()); }
};

std::vector<ItemClass> make_classes(const Problem& problem, const std::vector<int>& replicas);

struct Pattern {
  int type = 0;
  std::vector<std::pair<int, int>> items;  // (class, count), count > 0
};

struct GilmoreGomory {
  std::vector<ItemClass> classes;
  std::vector<Pattern> patterns;
  std::vector<double> x;      // the restricted master's optimum, one per pattern
  std::vector<double> duals;  // its duals, one per class: what a replica of the class is worth in $/h
  double lp_value = 0;        // restricted master's objective at the end
  double lower_bound = 0;     // valid lower bound on the cost of placing the classes' replicas
  bool converged = false;     // no column prices out: lower_bound is the LP optimum
  int iterations = 0;
  int exact_pricing_rounds = 0;
};

struct ColumnGenerationOptions {
  // Master solves at most (deterministic); the time limit is a safety net only.
  int max_iterations = 5000;
  int time_limit_ms = 120000;
  // Per class, the demand to cover (empty: every replica of the class). The diving heuristic covers what its
  // fixed patterns leave.
  std::vector<int> demand;
  // false: a heuristic solve for diving — pricing with a small search budget, no bound, stops when nothing
  // improving turns up.
  bool prove = true;
};

// `seeds`: patterns to start from (e.g. a greedy placement's nodes, or an earlier solve's pool); single-class
// patterns are always added so the master is feasible.
GilmoreGomory solve_gilmore_gomory(const Problem& problem, std::vector<ItemClass> classes,
                                   const std::vector<Pattern>& seeds, const ColumnGenerationOptions& options);

// Whether `pattern` respects the room of its type and the per-class limits.
bool pattern_fits(const Problem& problem, const std::vector<ItemClass>& classes, const Pattern& pattern);

}  // namespace byoc::plan::packing
