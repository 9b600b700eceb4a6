#include "plan/packing/column_generation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "base/compute_budget.h"
#include "plan/packing/glpk.h"
#include "plan/packing/knapsack.h"

namespace byoc::plan::packing {

std::vector<ItemClass> make_classes(const Problem& problem, const std::vector<int>& replicas) {
  // (group, cpu, memory) -> item group
  std::map<std::tuple<int, int64_t, int64_t>, ItemGroup> item_groups;
  for (int r : replicas) {
    const Replica& rep = problem.replicas[r];
    auto& ig = item_groups[{rep.group, rep.size.cpu_millis, rep.size.memory_mib}];
    ig.group = rep.group;
    ig.replicas.push_back(r);
  }
  std::map<std::tuple<int64_t, int64_t, int>, ItemClass> classes;  // (cpu, memory, per group)
  for (auto& [key, ig] : item_groups) {
    int per_group = static_cast<int>(ig.replicas.size());
    auto& c = classes[{std::get<1>(key), std::get<2>(key), per_group}];
    c.size = Resources{std::get<1>(key), std::get<2>(key)};
    c.per_group = per_group;
    c.item_groups.push_back(std::move(ig));
  }
  std::vector<ItemClass> out;
  for (auto& [key, c] : classes) out.push_back(std::move(c));
  // Largest first: the rounding and assignment steps place big items before small ones.
  std::stable_sort(out.begin(), out.end(), [](const ItemClass& a, const ItemClass& b) {
    return a.size.cpu_millis * 8 + a.size.memory_mib > b.size.cpu_millis * 8 + b.size.memory_mib;
  });
  return out;
}

bool pattern_fits(const Problem& problem, const std::vector<ItemClass>& classes, const Pattern& pattern) {
  Resources load;
  for (auto [k, count] : pattern.items) {
    if (count < 0 || count > classes[k].max_per_node()) return false;
    load.cpu_millis += classes[k].size.cpu_millis * count;
    load.memory_mib += classes[k].size.memory_mib * count;
  }
  return load.fits_in(problem.types[pattern.type].room);
}

namespace {


constexpr double kPricingTolerance = 1e-3;
constexpr double kSmoothing = 0.8;

struct Priced {
  Pattern pattern;
  double value = 0;        // Σ π_k a_k of the pattern found
  double upper_bound = 0;  // no pattern of this type is worth more
  bool optimal = false;    // value is the best a pattern of this type can reach
};

int max_copies(const ItemClass& c, const Resources& room) {
  int64_t by_cpu = c.size.cpu_millis > 0 ? room.cpu_millis / c.size.cpu_millis : c.max_per_node();
  int64_t by_mem = c.size.memory_mib > 0 ? room.memory_mib / c.size.memory_mib : c.max_per_node();
  return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>({by_cpu, by_mem, c.max_per_node()})));
}

// Greedy by value per share of the node, then a second pass that tries each class first.
Priced price_greedy(const Problem& problem, const std::vector<ItemClass>& classes, const std::vector<double>& duals,
                    int type) {
  const Resources room = problem.types[type].room;
  std::vector<int> order;
  for (size_t k = 0; k < classes.size(); ++k) {
    if (duals[k] > 1e-12 && classes[k].size.fits_in(room)) order.push_back(static_cast<int>(k));
  }
  auto share = [&](int k) {
    return static_cast<double>(classes[k].size.cpu_millis) / room.cpu_millis +
           static_cast<double>(classes[k].size.memory_mib) / room.memory_mib;
  };
  std::sort(order.begin(), order.end(), [&](int a, int b) { return duals[a] / share(a) > duals[b] / share(b); });
  Priced best;
  best.pattern.type = type;
  auto fill = [&](int first) {
    Resources left = room;
    Pattern p{type, {}};
    double value = 0;
    auto take = [&](int k) {
      int n = max_copies(classes[k], left);
      if (n <= 0) return;
      p.items.emplace_back(k, n);
      left.cpu_millis -= classes[k].size.cpu_millis * n;
      left.memory_mib -= classes[k].size.memory_mib * n;
      value += duals[k] * n;
    };
    if (first >= 0) take(first);
    for (int k : order) {
      if (k != first) take(k);
    }
    if (value > best.value) {
      best.value = value;
      best.pattern = p;
    }
  };
  fill(-1);
  for (size_t i = 0; i < order.size() && i < 8; ++i) fill(order[i]);
  best.upper_bound = best.value;  // not a bound: only the exact pricing sets one
  return best;
}

// Exact: max Σ π_k a_k, Σ a_k size_k ≤ room, 0 ≤ a_k ≤ max_copies, integer.
Priced price_exact(const Problem& problem, const std::vector<ItemClass>& classes, const std::vector<double>& duals,
                   int type, const Priced& start, int64_t node_budget, bool& dp_useful) {
  const Resources room = problem.types[type].room;
  std::vector<KnapsackItem> items(classes.size());
  for (size_t k = 0; k < classes.size(); ++k) {
    items[k] = KnapsackItem{classes[k].size, max_copies(classes[k], room), duals[k]};
  }
  // Only patterns worth more than the node's price matter; ignoring those within 0.1% of it costs the bound at
  // most that much (Farley's bound divides by the proven 1 + 1e-3) and saves the search from the many patterns
  // that tie with the price once the duals are nearly optimal.
  // The dynamic programme wins on gridded sizes; once it gives up in a solve it stays off for that solve.
  std::optional<KnapsackResult> dp;
  if (dp_useful) {
    dp = solve_knapsack_2d_dp(items, room);
    dp_useful = dp.has_value();
  }
  KnapsackResult k =
      dp ? *dp : solve_knapsack_2d(items, room, problem.types[type].price * (1 + kPricingTolerance), node_budget);
  Priced result = start;
  if (k.value > result.value) {
    Pattern pattern{type, {}};
    for (size_t i = 0; i < k.counts.size(); ++i) {
      if (k.counts[i] > 0) pattern.items.emplace_back(static_cast<int>(i), k.counts[i]);
    }
    result.pattern = pattern;
    result.value = 0;
    for (auto [c, n] : pattern.items) result.value += duals[c] * n;
  }
  result.optimal = k.proven;
  // A hair of slack for floating-point sums.
  result.upper_bound = std::max(result.value, k.upper_bound) * (1 + 1e-12);
  return result;
}

bool dominated(const Problem& problem, int t) {
  const NodeType& a = problem.types[t];
  for (size_t u = 0; u < problem.types.size(); ++u) {
    if (static_cast<int>(u) == t) continue;
    const NodeType& b = problem.types[u];
    bool no_worse = a.room.fits_in(b.room) && b.price <= a.price;
    bool better = b.price < a.price || !(b.room == a.room);
    if (no_worse && (better || static_cast<int>(u) < t)) return true;
  }
  return false;
}

class Master {
 public:
  Master(const std::vector<ItemClass>& classes, const std::vector<int>& demand) : classes_(classes) {
    glp_set_obj_dir(lp_.get(), GLP_MIN);
    glp_add_rows(lp_.get(), static_cast<int>(classes.size()));
    for (size_t k = 0; k < classes.size(); ++k) {
      glp_set_row_bnds(lp_.get(), static_cast<int>(k) + 1, GLP_LO, demand[k], 0);
    }
  }

  bool add(const Problem& problem, const Pattern& pattern) {
    std::vector<std::pair<int, int>> key = pattern.items;
    std::sort(key.begin(), key.end());
    if (key.empty() || !seen_.insert({pattern.type, key}).second) return false;
    int col = glp_add_cols(lp_.get(), 1);
    glp_set_col_bnds(lp_.get(), col, GLP_LO, 0, 0);
    glp_set_obj_coef(lp_.get(), col, problem.types[pattern.type].price);
    std::vector<int> ind{0};
    std::vector<double> val{0};
    for (auto [k, n] : key) {
      ind.push_back(k + 1);
      val.push_back(n);
    }
    glp_set_mat_col(lp_.get(), col, static_cast<int>(key.size()), ind.data(), val.data());
    glp_set_col_stat(lp_.get(), col, GLP_NL);
    patterns_.push_back(Pattern{pattern.type, key});
    return true;
  }

  bool solve(int time_limit_ms) {
    glp_smcp smcp;
    glp_init_smcp(&smcp);
    smcp.msg_lev = GLP_MSG_OFF;
    smcp.tm_lim = std::max(1, time_limit_ms);
    int rc = glp_simplex(lp_.get(), &smcp);
    if (rc != 0 || glp_get_status(lp_.get()) != GLP_OPT) {
      // A stale basis can trip the simplex: rebuild one and try once more.
      glp_adv_basis(lp_.get(), 0);
      rc = glp_simplex(lp_.get(), &smcp);
    }
    return rc == 0 && glp_get_status(lp_.get()) == GLP_OPT;
  }

  double objective() const { return glp_get_obj_val(lp_.get()); }
  std::vector<double> duals() const {
    std::vector<double> d(classes_.size());
    for (size_t k = 0; k < d.size(); ++k) d[k] = std::max(0.0, glp_get_row_dual(lp_.get(), static_cast<int>(k) + 1));
    return d;
  }
  std::vector<double> primal() const {
    std::vector<double> x(patterns_.size());
    for (size_t j = 0; j < x.size(); ++j) x[j] = std::max(0.0, glp_get_col_prim(lp_.get(), static_cast<int>(j) + 1));
    return x;
  }
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  const std::vector<ItemClass>& classes_;
  GlpkProblem lp_;
  std::vector<Pattern> patterns_;
  std::set<std::pair<int, std::vector<std::pair<int, int>>>> seen_;
};

}  // namespace

GilmoreGomory solve_gilmore_gomory(const Problem& problem, std::vector<ItemClass> classes,
                                   const std::vector<Pattern>& seeds, const ColumnGenerationOptions& options) {
  const int time_limit_ms = options.time_limit_ms;
  GilmoreGomory out;
  out.classes = std::move(classes);
  const auto& cls = out.classes;
  std::vector<int> demand = options.demand;
  if (demand.empty()) {
    for (const auto& c : cls) demand.push_back(c.demand());
  }
  if (cls.empty() || *std::max_element(demand.begin(), demand.end()) <= 0) {
    out.converged = true;
    out.x.assign(seeds.size(), 0);
    out.patterns = seeds;
    return out;
  }
  const ComputeBudget budget{std::chrono::milliseconds(time_limit_ms)};
  auto ms_left = [&] { return static_cast<int>(budget.left(std::chrono::milliseconds(1)).count()); };

  std::vector<int> pricing_types;
  for (size_t t = 0; t < problem.types.size(); ++t) {
    if (!dominated(problem, static_cast<int>(t))) pricing_types.push_back(static_cast<int>(t));
  }

  Master master(cls, demand);
  for (const auto& s : seeds) {
    if (pattern_fits(problem, cls, s)) master.add(problem, s);
  }
  for (size_t k = 0; k < cls.size(); ++k) {
    for (int t : pricing_types) {
      int n = max_copies(cls[k], problem.types[t].room);
      if (n > 0) master.add(problem, Pattern{t, {{static_cast<int>(k), n}}});
    }
  }

  // Wentges smoothing: price at a point between the best-bound duals seen so far (the stability centre) and the
  // master's duals; it damps the oscillation that makes plain column generation tail off. A separation point that
  // yields no column improving the master (mispricing) falls back to the master's duals.
  double best_bound = 0;
  bool dp_useful = true;
  std::vector<double> center;
  bool stalled = false;
  while (!stalled && out.iterations < options.max_iterations) {
    ++out.iterations;
    if (!master.solve(ms_left())) break;
    const std::vector<double> duals = master.duals();
    out.duals = duals;
    if (budget.spent()) break;
    // The bound is as close to the master's value as the pricing tolerance lets it get: stop the tail here.
    if (best_bound > 0 && best_bound >= master.objective() / (1 + 2 * kPricingTolerance)) {
      out.converged = true;
      break;
    }
    // Improves the master: worth more than its price at the master's duals.
    auto improving = [&](const Pattern& pat) {
      double v = 0;
      for (auto [k, n] : pat.items) v += duals[k] * n;
      return v > problem.types[pat.type].price * (1 + kPricingTolerance);
    };
    bool added = false;
    for (double alpha : {center.empty() ? 0.0 : kSmoothing, 0.0}) {
      std::vector<double> point = duals;
      if (alpha > 0) {
        for (size_t k = 0; k < point.size(); ++k) point[k] = alpha * center[k] + (1 - alpha) * duals[k];
      }
      for (int t : pricing_types) {
        Priced g = price_greedy(problem, cls, point, t);
        if (improving(g.pattern)) added = master.add(problem, g.pattern) || added;
      }
      if (added) break;
      // Exact round at this point: every non-dominated type, which also yields Farley's bound for the point.
      ++out.exact_pricing_rounds;
      double theta = 0;  // the most value per dollar any pattern reaches
      bool all_optimal = true;
      for (int t : pricing_types) {
        Priced g = price_greedy(problem, cls, point, t);
        Priced e = price_exact(problem, cls, point, t, g, options.prove ? 1'000'000 : 20'000, dp_useful);
        all_optimal = all_optimal && e.optimal;
        theta = std::max(theta, e.upper_bound / problem.types[t].price);
        if (improving(e.pattern)) added = master.add(problem, e.pattern) || added;
      }
      double point_value = 0;
      for (size_t k = 0; k < cls.size(); ++k) point_value += point[k] * demand[k];
      double bound = theta <= 1 ? point_value : point_value / theta;
      if (bound > best_bound) {
        best_bound = bound;
        center = point;
      }
      if (added) break;
      if (!options.prove) {
        stalled = true;
        break;
      }
      if (alpha == 0) {
        // Nothing prices out at the master's duals: with every pricing proven the LP is solved.
        out.converged = all_optimal;
        stalled = true;
        break;
      }
    }
  }
  // Polish: the tolerance kept the tail short; one exact round at the master's own duals with no tolerance,
  // when every type is proven to have nothing worth more than its price, makes the bound the LP optimum itself.
  if (options.prove && out.converged && !out.duals.empty() && !budget.spent()) {
    bool proven = true;
    for (int t : pricing_types) {
      std::vector<KnapsackItem> items(cls.size());
      for (size_t k = 0; k < cls.size(); ++k) {
        items[k] = KnapsackItem{cls[k].size, max_copies(cls[k], problem.types[t].room), out.duals[k]};
      }
      std::optional<KnapsackResult> dp;
      if (dp_useful) dp = solve_knapsack_2d_dp(items, problem.types[t].room);
      KnapsackResult r =
          dp ? *dp : solve_knapsack_2d(items, problem.types[t].room, problem.types[t].price * (1 + 1e-9), 200'000);
      if (!r.proven || r.value > problem.types[t].price * (1 + 1e-9)) {
        proven = false;
        break;
      }
    }
    if (proven) {
      double dual_value = 0;
      for (size_t k = 0; k < cls.size(); ++k) dual_value += out.duals[k] * demand[k];
      best_bound = std::max(best_bound, dual_value / (1 + 1e-9));
    }
  }
  out.patterns = master.patterns();
  out.x = master.primal();
  out.lp_value = master.objective();
  out.lower_bound = options.prove ? best_bound : 0;
  if (out.converged) out.lower_bound = std::min(best_bound, out.lp_value);
  return out;
}

}  // namespace byoc::plan::packing
