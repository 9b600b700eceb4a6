#include "plan/packing/packed.h"

#include <algorithm>
#include <map>
#include <cmath>
#include <numeric>

#include "base/error.h"
#include "plan/packing/assignment.h"
#include "plan/packing/column_generation.h"
#include "plan/packing/ejection.h"
#include "plan/packing/exact_mip.h"
#include "plan/packing/feasibility.h"
#include "plan/packing/glpk.h"
#include "plan/packing/improve.h"
#include "plan/packing/integer_master.h"
#include "plan/packing/resolve.h"
#include "plan/packing/zoned_master.h"

namespace byoc::plan::packing {

namespace {

// The patterns (class counts) of a layout's nodes, as seeds for the column generation.
std::vector<Pattern> patterns_of(const Layout& layout, const std::vector<ItemClass>& classes) {
  std::vector<int> class_of(layout.problem().replicas.size(), -1);
  for (size_t k = 0; k < classes.size(); ++k) {
    for (const auto& ig : classes[k].item_groups) {
      for (int r : ig.replicas) class_of[r] = static_cast<int>(k);
    }
  }
  std::vector<Pattern> out;
  for (int n = 0; n < layout.node_count(); ++n) {
    std::vector<int> counts(classes.size(), 0);
    bool any = false;
    for (int r : layout.node(n).replicas) {
      if (class_of[r] >= 0) {
        ++counts[class_of[r]];
        any = true;
      }
    }
    if (!any) continue;
    Pattern p{layout.node(n).type, {}};
    for (size_t k = 0; k < counts.size(); ++k) {
      if (counts[k]) p.items.emplace_back(static_cast<int>(k), counts[k]);
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Price-and-dive: fix the LP's whole columns, then one copy of its largest fractional column at a time, and
// re-solve the residual by column generation (heuristic pricing) after each fix, until everything is covered or
// `max_rounds` re-solves are done (the repair then places the rest).
std::vector<Pattern> dive(const Problem& problem, const GilmoreGomory& gg, int max_rounds,
                          const ColumnGenerationOptions& resolve) {
  std::vector<int> residual;
  for (const auto& c : gg.classes) residual.push_back(c.demand());
  std::vector<Pattern> fixed;
  std::vector<Pattern> pool = gg.patterns;
  std::vector<double> x = gg.x;
  for (int round = 0;; ++round) {
    std::vector<std::pair<int, int>> take;  // (pattern, copies)
    for (size_t p = 0; p < x.size(); ++p) {
      int whole = static_cast<int>(std::floor(x[p] + 1e-6));
      if (whole > 0) take.emplace_back(static_cast<int>(p), whole);
    }
    if (take.empty()) {
      // No whole column: one copy of every column the LP takes at least half of, else of its largest.
      for (size_t p = 0; p < x.size(); ++p) {
        if (x[p] >= 0.5) take.emplace_back(static_cast<int>(p), 1);
      }
    }
    if (take.empty()) {
      size_t best = 0;
      for (size_t p = 1; p < x.size(); ++p) {
        if (x[p] > x[best]) best = p;
      }
      if (x.empty() || x[best] <= 1e-9) return fixed;
      take.emplace_back(static_cast<int>(best), 1);
    }
    for (auto [p, copies] : take) {
      for (int c = 0; c < copies; ++c) fixed.push_back(pool[p]);
      for (auto [k, n] : pool[p].items) residual[k] = std::max(0, residual[k] - n * copies);
    }
    if (*std::max_element(residual.begin(), residual.end()) <= 0 || round >= max_rounds) return fixed;
    ColumnGenerationOptions opt = resolve;
    opt.demand = residual;
    opt.prove = false;
    GilmoreGomory next = solve_gilmore_gomory(problem, gg.classes, pool, opt);
    pool = std::move(next.patterns);
    x = std::move(next.x);
  }
}

IntegerMasterLimits integer_master_limits(const PlannerOptions& options, size_t classes) {
  IntegerMasterLimits limits;
  limits.max_patterns = options.integer_master_max_patterns;
  limits.max_nodes = std::max<int64_t>(
      1, std::min<int64_t>(options.integer_master_max_nodes,
                           options.integer_master_max_work / std::max<int64_t>(1, static_cast<int64_t>(classes))));
  limits.safety_time_limit_ms = options.safety_time_limit_ms;
  return limits;
}

EjectionLimits ejection_limits(const PlannerOptions& options) {
  EjectionLimits limits;
  limits.depth = options.ejection_depth;
  limits.visits_total = options.ejection_max_visits;
  limits.visits_per_replica = std::min<int64_t>(limits.visits_per_replica, options.ejection_max_visits);
  return limits;
}

// The replicas the slots left out: first by ejection chains through the nodes already there (free), then the
// cheapest-insertion repair (which may buy nodes); then the local improvement.
void repair(Layout& layout, const PlannerOptions& options) {
  std::vector<int> unplaced;
  for (size_t r = 0; r < layout.problem().replicas.size(); ++r) {
    if (layout.node_of(static_cast<int>(r)) < 0) unplaced.push_back(static_cast<int>(r));
  }
  const EjectionLimits limits = ejection_limits(options);
  place_by_ejection(layout, unplaced, limits);
  insert_unplaced(layout);
  improve(layout);
  for (int pass = 0; pass < 3 && empty_by_ejection(layout, limits) > 1e-9; ++pass) improve(layout);
}

// Zoned new nodes added to `base`: replicas into their slots, the rest by the repair, then the local improvement.
Layout realise(const Layout& base, const std::vector<ItemClass>& classes, const std::vector<ZonedNode>& nodes,
               const PlannerOptions& options) {
  Layout layout = base;
  std::vector<Pattern> opens;
  std::vector<int> zones;
  for (const auto& node : nodes) {
    opens.push_back(node.pattern);
    zones.push_back(node.zone);
  }
  assign_patterns(layout, classes, opens, zones);
  repair(layout, options);
  return layout;
}

// New nodes of the given contents added to `base`: zones chosen by choose_zones, replicas into slots, the rest
// by the repair, then the local improvement.
Layout realise(const Layout& base, const GilmoreGomory& gg, const std::vector<Pattern>& opens,
               const PlannerOptions& options) {
  Layout layout = base;
  IntegerMasterLimits limits = integer_master_limits(options, gg.classes.size());
  limits.max_nodes = options.zone_choice_max_nodes;
  assign_patterns(layout, gg.classes, opens, choose_zones(base, gg.classes, gg.duals, opens, limits));
  repair(layout, options);
  return layout;
}

Layout realise(const Layout& base, const GilmoreGomory& gg, const std::vector<int>& counts,
               const PlannerOptions& options) {
  std::vector<Pattern> opens;
  for (size_t p = 0; p < counts.size(); ++p) {
    for (int c = 0; c < counts[p]; ++c) opens.push_back(gg.patterns[p]);
  }
  return realise(base, gg, opens, options);
}

// The new nodes of `layout` (those past `base`'s) as copies per pattern of gg; empty unless every one is a
// pattern of gg and they hold every replica of its classes (a start for the integer master must cover).
std::vector<int> counts_of(const Layout& base, const Layout& layout, const GilmoreGomory& gg) {
  for (const auto& c : gg.classes) {
    for (const auto& ig : c.item_groups) {
      for (int r : ig.replicas) {
        if (layout.node_of(r) < base.node_count()) return {};
      }
    }
  }
  std::map<std::pair<int, std::vector<std::pair<int, int>>>, int> index;
  for (size_t p = 0; p < gg.patterns.size(); ++p) {
    auto key = std::make_pair(gg.patterns[p].type, gg.patterns[p].items);
    std::sort(key.second.begin(), key.second.end());
    index.emplace(std::move(key), static_cast<int>(p));
  }
  Layout fresh(layout.problem());
  for (int n = base.node_count(); n < layout.node_count(); ++n) {
    if (layout.empty(n)) continue;
    int id = fresh.add_node(layout.node(n).type, layout.node(n).zone);
    for (int r : layout.node(n).replicas) fresh.place(r, id);
  }
  std::vector<int> counts(gg.patterns.size(), 0);
  for (Pattern& pattern : patterns_of(fresh, gg.classes)) {
    std::sort(pattern.items.begin(), pattern.items.end());
    auto it = index.find({pattern.type, pattern.items});
    if (it == index.end()) return {};
    ++counts[it->second];
  }
  return counts;
}

}  // namespace

Layout pack_into(const Layout& base, const std::vector<int>& replicas, const PlannerOptions& options,
                 GilmoreGomory* gg_out) {
  const Problem& problem = base.problem();
  // Greedy: cheapest insertion, then improvement. Also the seed of the column generation.
  Layout best = base;
  insert_replicas(best, replicas);
  improve(best);
  if (replicas.empty()) {
    if (gg_out) *gg_out = GilmoreGomory{};
    return best;
  }

  std::vector<ItemClass> classes = make_classes(problem, replicas);
  std::vector<Pattern> seeds = patterns_of(best, classes);
  ColumnGenerationOptions bound;
  bound.max_iterations = options.bound_max_iterations;
  bound.time_limit_ms = options.safety_time_limit_ms;
  bound.prove = options.prove_bound;
  GilmoreGomory gg = solve_gilmore_gomory(problem, std::move(classes), seeds, bound);

  auto consider = [&](Layout candidate) {
    if (candidate.cost() < best.cost() - 1e-9) best = std::move(candidate);
  };
  // Price-and-branch: the integer master's last few improving solutions, then the zones restored on their
  // contents (and the LP's, and the best plan's).
  std::vector<std::vector<int>> solutions =
      solve_integer_master(problem, gg, counts_of(base, best, gg), integer_master_limits(options, gg.classes.size()));
  for (const auto& counts : solutions) {
    consider(realise(base, gg, counts, options));
  }
  std::vector<int> ceil_counts(gg.patterns.size()), floor_counts(gg.patterns.size());
  for (size_t p = 0; p < gg.patterns.size(); ++p) {
    ceil_counts[p] = static_cast<int>(std::ceil(gg.x[p] - 1e-9));
    floor_counts[p] = static_cast<int>(std::floor(gg.x[p] + 1e-9));
  }
  consider(realise(base, gg, ceil_counts, options));
  if (floor_counts != ceil_counts) consider(realise(base, gg, floor_counts, options));
  ColumnGenerationOptions resolve;
  resolve.max_iterations = options.dive_max_iterations;
  resolve.time_limit_ms = options.safety_time_limit_ms;
  const int dive_rounds = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>(options.dive_max_rounds,
                           options.dive_max_work / std::max<int64_t>(1, static_cast<int64_t>(gg.classes.size())))));
  std::vector<Pattern> dived = dive(problem, gg, dive_rounds, resolve);
  if (!dived.empty()) consider(realise(base, gg, dived, options));
  std::vector<Pattern> contents;
  for (const auto& counts : solutions) {
    for (size_t p = 0; p < counts.size(); ++p) {
      if (counts[p] > 0) contents.push_back(gg.patterns[p]);
    }
  }
  for (size_t p = 0; p < gg.patterns.size(); ++p) {
    if (gg.x[p] > 1e-6) contents.push_back(gg.patterns[p]);
  }
  IntegerMasterLimits zoned = integer_master_limits(options, gg.classes.size());
  zoned.max_nodes = options.zoned_master_max_nodes;
  zoned.max_patterns = options.zoned_master_max_columns;
  if (auto nodes = solve_zoned_master(base, gg.classes, contents, zoned_nodes_of(base, best, gg.classes), zoned)) {
    consider(realise(base, gg.classes, *nodes, options));
  }
  // Last, nodes the chains can empty (or shrink) on the winner.
  for (int pass = 0; pass < 3 && empty_by_ejection(best, ejection_limits(options)) > 1e-9; ++pass) improve(best);
  if (gg_out) *gg_out = std::move(gg);
  return best;
}

PackedResult solve_packed(const Problem& problem, const PlannerOptions& options) {
  PackedResult result;
  std::vector<int> all(problem.replicas.size());
  std::iota(all.begin(), all.end(), 0);
  GilmoreGomory gg;
  Layout layout = pack_into(Layout(problem), all, options, &gg);
  result.lower_bound = gg.lower_bound;
  result.replica_value.assign(problem.replicas.size(), 0);
  for (size_t k = 0; k < gg.classes.size() && k < gg.duals.size(); ++k) {
    for (const auto& ig : gg.classes[k].item_groups) {
      for (int r : ig.replicas) result.replica_value[r] = gg.duals[k];
    }
  }
  resolve_neighbourhoods(layout, result.replica_value, options);
  result.solution = layout.solution();
  check_or_throw(problem, result.solution, "packed heuristic");
  double cost = result.solution.cost(problem);
  if (result.lower_bound > cost * (1 + 1e-7)) {
    throw Error::Internal("placement planner: the LP bound exceeds a feasible plan's cost");
  }
  result.lower_bound = std::min(result.lower_bound, cost);
  if (cost <= result.lower_bound * (1 + 1e-9)) {
    result.optimal = true;  // the heuristic met the bound
  } else if (static_cast<int>(problem.replicas.size()) <= options.exact_max_replicas) {
    ExactResult exact = solve_exact(problem, options.exact_max_nodes, options.safety_time_limit_ms);
    if (exact.solution) {
      check_or_throw(problem, *exact.solution, "exact MIP");
      if (exact.solution->cost(problem) <= cost + 1e-9) result.solution = *exact.solution;
    }
    result.optimal = exact.optimal;
  }
  if (result.optimal) result.lower_bound = result.solution.cost(problem);
  return result;
}

}  // namespace byoc::plan::packing
