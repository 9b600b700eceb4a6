#include "plan/packing/packed.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "base/error.h"
#include "plan/packing/assignment.h"
#include "plan/packing/column_generation.h"
#include "plan/packing/exact_mip.h"
#include "plan/packing/feasibility.h"
#include "plan/packing/glpk.h"
#include "plan/packing/improve.h"

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

struct IpCallback {
  std::vector<double> start;
  bool given = false;
};

void on_ip_event(glp_tree* tree, void* info) {
  auto* cb = static_cast<IpCallback*>(info);
  if (glp_ios_reason(tree) == GLP_IHEUR && !cb->given && !cb->start.empty()) {
    cb->given = true;
    glp_ios_heur_sol(tree, cb->start.data());
  }
}

// Integer restricted master: min Σ c_p n_p, Σ a_kp n_p ≥ demand_k, n_p ∈ ℕ over the generated patterns, starting
// from the ceiling of the LP. Empty when GLPK finds nothing within the time limit.
std::vector<int> integer_master(const Problem& problem, const GilmoreGomory& gg, int time_limit_ms) {
  GlpkProblem holder;
  glp_prob* lp = holder.get();
  glp_set_obj_dir(lp, GLP_MIN);
  glp_add_rows(lp, static_cast<int>(gg.classes.size()));
  for (size_t k = 0; k < gg.classes.size(); ++k) {
    glp_set_row_bnds(lp, static_cast<int>(k) + 1, GLP_LO, gg.classes[k].demand(), 0);
  }
  // Only patterns the LP uses or nearly uses: the full pool makes the branch and bound slow for nothing.
  std::vector<int> cols;
  for (size_t p = 0; p < gg.patterns.size(); ++p) {
    if (gg.x[p] > 1e-6) cols.push_back(static_cast<int>(p));
  }
  if (cols.empty()) return {};
  glp_add_cols(lp, static_cast<int>(cols.size()));
  IpCallback cb;
  cb.start.assign(cols.size() + 1, 0);
  for (size_t j = 0; j < cols.size(); ++j) {
    const Pattern& pat = gg.patterns[cols[j]];
    int col = static_cast<int>(j) + 1;
    glp_set_col_kind(lp, col, GLP_IV);
    glp_set_col_bnds(lp, col, GLP_LO, 0, 0);
    glp_set_obj_coef(lp, col, problem.types[pat.type].price);
    std::vector<int> ind{0};
    std::vector<double> val{0};
    for (auto [k, c] : pat.items) {
      ind.push_back(k + 1);
      val.push_back(c);
    }
    glp_set_mat_col(lp, col, static_cast<int>(pat.items.size()), ind.data(), val.data());
    cb.start[col] = std::ceil(gg.x[cols[j]] - 1e-9);
  }
  glp_smcp smcp;
  glp_init_smcp(&smcp);
  smcp.msg_lev = GLP_MSG_OFF;
  smcp.tm_lim = time_limit_ms;
  if (glp_simplex(lp, &smcp) != 0 || glp_get_status(lp) != GLP_OPT) return {};
  glp_iocp iocp;
  glp_init_iocp(&iocp);
  iocp.msg_lev = GLP_MSG_OFF;
  iocp.tm_lim = time_limit_ms;
  iocp.mip_gap = 1e-4;
  iocp.cb_func = on_ip_event;
  iocp.cb_info = &cb;
  glp_intopt(lp, &iocp);
  int status = glp_mip_status(lp);
  if (status != GLP_OPT && status != GLP_FEAS) return {};
  std::vector<int> counts(gg.patterns.size(), 0);
  for (size_t j = 0; j < cols.size(); ++j) {
    counts[cols[j]] = static_cast<int>(std::lround(glp_mip_col_val(lp, static_cast<int>(j) + 1)));
  }
  return counts;
}

// Price-and-dive: fix the LP's whole columns, then one copy of its largest fractional column at a time, and
// re-solve the residual by column generation (heuristic pricing) after each fix, until everything is covered or
// the time is up (the repair then places the rest).
std::vector<Pattern> dive(const Problem& problem, const GilmoreGomory& gg, int time_limit_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(time_limit_ms);
  std::vector<int> residual;
  for (const auto& c : gg.classes) residual.push_back(c.demand());
  std::vector<Pattern> fixed;
  std::vector<Pattern> pool = gg.patterns;
  std::vector<double> x = gg.x;
  for (int step = 0; step < 10000; ++step) {
    std::vector<std::pair<int, int>> take;  // (pattern, copies)
    for (size_t p = 0; p < x.size(); ++p) {
      int whole = static_cast<int>(std::floor(x[p] + 1e-6));
      if (whole > 0) take.emplace_back(static_cast<int>(p), whole);
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
    if (*std::max_element(residual.begin(), residual.end()) <= 0) return fixed;
    auto left = deadline - std::chrono::steady_clock::now();
    int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
    if (ms <= 0) return fixed;  // out of time: the repair places what the fixed patterns leave
    ColumnGenerationOptions opt;
    opt.time_limit_ms = ms;
    opt.demand = residual;
    opt.prove = false;
    GilmoreGomory next = solve_gilmore_gomory(problem, gg.classes, pool, opt);
    pool = std::move(next.patterns);
    x = std::move(next.x);
  }
  return fixed;
}

Layout realise(const Layout& base, const std::vector<ItemClass>& classes, const std::vector<Pattern>& opens) {
  Layout layout = base;
  assign_patterns(layout, classes, opens);
  insert_unplaced(layout);
  improve(layout);
  return layout;
}

Layout realise(const Layout& base, const GilmoreGomory& gg, const std::vector<int>& counts) {
  Layout layout = base;
  std::vector<Pattern> opens;
  for (size_t p = 0; p < counts.size(); ++p) {
    for (int c = 0; c < counts[p]; ++c) opens.push_back(gg.patterns[p]);
  }
  assign_patterns(layout, gg.classes, opens);
  insert_unplaced(layout);
  improve(layout);
  return layout;
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
  GilmoreGomory gg = solve_gilmore_gomory(problem, std::move(classes), seeds, options.bound_time_limit_ms);

  std::vector<int> ip = integer_master(problem, gg, options.rounding_time_limit_ms);
  auto consider = [&](Layout candidate) {
    if (candidate.cost() < best.cost() - 1e-9) best = std::move(candidate);
  };
  if (!ip.empty()) consider(realise(base, gg, ip));
  std::vector<int> ceil_counts(gg.patterns.size()), floor_counts(gg.patterns.size());
  for (size_t p = 0; p < gg.patterns.size(); ++p) {
    ceil_counts[p] = static_cast<int>(std::ceil(gg.x[p] - 1e-9));
    floor_counts[p] = static_cast<int>(std::floor(gg.x[p] + 1e-9));
  }
  if (ceil_counts != ip) consider(realise(base, gg, ceil_counts));
  if (floor_counts != ceil_counts) consider(realise(base, gg, floor_counts));
  std::vector<Pattern> dived = dive(problem, gg, options.rounding_time_limit_ms * 4);
  if (!dived.empty()) consider(realise(base, gg.classes, dived));
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
    ExactResult exact = solve_exact(problem, options.exact_time_limit_ms);
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
