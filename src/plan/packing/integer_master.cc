#include "plan/packing/integer_master.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "plan/packing/glpk.h"

namespace byoc::plan::packing {

namespace {

// Whether `counts` (per pattern) covers every class's demand.
bool covers(const GilmoreGomory& gg, const std::vector<int>& counts) {
  std::vector<int> covered(gg.classes.size(), 0);
  for (size_t p = 0; p < counts.size() && p < gg.patterns.size(); ++p) {
    for (auto [k, n] : gg.patterns[p].items) covered[k] += n * counts[p];
  }
  for (size_t k = 0; k < gg.classes.size(); ++k) {
    if (covered[k] < gg.classes[k].demand()) return false;
  }
  return true;
}

double cost_of(const Problem& problem, const GilmoreGomory& gg, const std::vector<int>& counts) {
  double cost = 0;
  for (size_t p = 0; p < counts.size(); ++p) cost += counts[p] * problem.types[gg.patterns[p].type].price;
  return cost;
}

}  // namespace

std::vector<std::vector<int>> solve_integer_master(const Problem& problem, const GilmoreGomory& gg,
                                                   const std::vector<int>& start, const IntegerMasterLimits& limits) {
  const int K = static_cast<int>(gg.classes.size());
  const int all = static_cast<int>(gg.patterns.size());
  if (K == 0 || all == 0) return {};

  // The patterns: the LP's support and the start's, then the least reduced cost at the LP's duals.
  std::vector<int> ceiling(all, 0);
  for (int p = 0; p < all && p < static_cast<int>(gg.x.size()); ++p) {
    ceiling[p] = static_cast<int>(std::ceil(gg.x[p] - 1e-9));
  }
  std::vector<int> first = ceiling;
  if (static_cast<int>(start.size()) == all && covers(gg, start) &&
      cost_of(problem, gg, start) < cost_of(problem, gg, ceiling)) {
    first = start;
  }
  std::vector<double> reduced(all, 0);
  for (int p = 0; p < all; ++p) {
    double value = 0;
    for (auto [k, n] : gg.patterns[p].items) value += (k < static_cast<int>(gg.duals.size()) ? gg.duals[k] : 0) * n;
    reduced[p] = problem.types[gg.patterns[p].type].price - value;
  }
  auto needed = [&](int p) { return first[p] > 0 || ceiling[p] > 0; };
  std::vector<int> order(all);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (needed(a) != needed(b)) return needed(a);
    return reduced[a] < reduced[b];
  });
  std::vector<int> columns;
  for (int p : order) {
    if (static_cast<int>(columns.size()) >= limits.max_patterns && !needed(p)) break;
    columns.push_back(p);
  }
  const int P = static_cast<int>(columns.size());

  GlpkProblem holder;
  glp_prob* lp = holder.get();
  glp_set_obj_dir(lp, GLP_MIN);
  glp_add_rows(lp, K);
  for (int k = 0; k < K; ++k) glp_set_row_bnds(lp, k + 1, GLP_LO, gg.classes[k].demand(), 0);
  glp_add_cols(lp, P);
  std::vector<double> start_values(P + 1, 0);
  for (int j = 0; j < P; ++j) {
    const Pattern& pattern = gg.patterns[columns[j]];
    glp_set_col_kind(lp, j + 1, GLP_IV);
    glp_set_col_bnds(lp, j + 1, GLP_LO, 0, 0);
    glp_set_obj_coef(lp, j + 1, problem.types[pattern.type].price);
    std::vector<int> ind{0};
    std::vector<double> val{0};
    for (auto [k, n] : pattern.items) {
      ind.push_back(k + 1);
      val.push_back(n);
    }
    glp_set_mat_col(lp, j + 1, static_cast<int>(pattern.items.size()), ind.data(), val.data());
    start_values[j + 1] = first[columns[j]];
  }
  auto found = branch_and_bound(lp, std::move(start_values), limits.max_nodes, limits.safety_time_limit_ms);
  std::vector<std::vector<int>> out;
  for (auto it = found.rbegin(); it != found.rend() && static_cast<int>(out.size()) < limits.keep; ++it) {
    std::vector<int> counts(all, 0);
    for (int j = 0; j < P; ++j) counts[columns[j]] = static_cast<int>(std::lround(it->second[j + 1]));
    if (covers(gg, counts)) out.push_back(std::move(counts));
  }
  return out;
}

std::vector<int> choose_zones(const Layout& base, const std::vector<ItemClass>& classes,
                              const std::vector<double>& class_value, const std::vector<Pattern>& nodes,
                              const IntegerMasterLimits& limits) {
  const Problem& problem = base.problem();
  const int K = static_cast<int>(classes.size());
  const int Z = problem.zone_count();
  if (nodes.empty() || K == 0 || Z == 0) return {};

  // Distinct contents and how many nodes of each.
  std::map<std::pair<int, std::vector<std::pair<int, int>>>, int> index;
  std::vector<int> content_of(nodes.size());
  std::vector<const Pattern*> contents;
  std::vector<int> copies;
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto key = std::make_pair(nodes[i].type, nodes[i].items);
    std::sort(key.second.begin(), key.second.end());
    auto [it, added] = index.emplace(std::move(key), static_cast<int>(contents.size()));
    if (added) {
      contents.push_back(&nodes[i]);
      copies.push_back(0);
    }
    content_of[i] = it->second;
    ++copies[it->second];
  }
  const int C = static_cast<int>(contents.size());

  // Per (class, zone), how many of the class's replicas the zone may take: the sum over its item groups of what
  // the zone spread lets each put there, given what `base` holds.
  std::vector<std::vector<int>> room(K, std::vector<int>(Z, 0));
  for (int k = 0; k < K; ++k) {
    for (const ItemGroup& ig : classes[k].item_groups) {
      const int mine = static_cast<int>(ig.replicas.size());
      for (int z = 0; z < Z; ++z) {
        room[k][z] += std::max(0, std::min(mine, problem.groups[ig.group].zone_max - base.zone_count(ig.group, z)));
      }
    }
  }

  GlpkProblem holder;
  glp_prob* lp = holder.get();
  // Maximise the value of the replicas the slots can take.
  glp_set_obj_dir(lp, GLP_MAX);
  // Rows: (class, zone) slots − taken ≥ 0; per class Σ_z taken ≤ demand; per content Σ_z nodes = its copies.
  glp_add_rows(lp, K * Z + K + C);
  for (int k = 0; k < K; ++k) {
    for (int z = 0; z < Z; ++z) glp_set_row_bnds(lp, k * Z + z + 1, GLP_LO, 0, 0);
    glp_set_row_bnds(lp, K * Z + k + 1, GLP_UP, 0, classes[k].demand());
  }
  for (int c = 0; c < C; ++c) glp_set_row_bnds(lp, K * Z + K + c + 1, GLP_FX, copies[c], copies[c]);
  // Columns: nodes(content, zone) at 1 + c·Z + z, then taken(class, zone) at 1 + C·Z + k·Z + z.
  glp_add_cols(lp, C * Z + K * Z);
  for (int c = 0; c < C; ++c) {
    for (int z = 0; z < Z; ++z) {
      int col = c * Z + z + 1;
      glp_set_col_kind(lp, col, GLP_IV);
      glp_set_col_bnds(lp, col, GLP_DB, 0, copies[c]);
      std::vector<int> ind{0};
      std::vector<double> val{0};
      for (auto [k, n] : contents[c]->items) {
        ind.push_back(k * Z + z + 1);
        val.push_back(n);
      }
      ind.push_back(K * Z + K + c + 1);
      val.push_back(1);
      glp_set_mat_col(lp, col, static_cast<int>(ind.size()) - 1, ind.data(), val.data());
    }
  }
  for (int k = 0; k < K; ++k) {
    // A replica the LP values at nothing still has to be placed: a small positive worth keeps it in.
    double worth = (k < static_cast<int>(class_value.size()) ? std::max(0.0, class_value[k]) : 0) + 1e-4;
    for (int z = 0; z < Z; ++z) {
      int col = C * Z + k * Z + z + 1;
      glp_set_col_bnds(lp, col, room[k][z] > 0 ? GLP_DB : GLP_FX, 0, room[k][z]);
      glp_set_obj_coef(lp, col, worth);
      int ind[] = {0, k * Z + z + 1, K * Z + k + 1};
      double val[] = {0, -1, 1};
      glp_set_mat_col(lp, col, 2, ind, val);
    }
  }
  auto found = branch_and_bound(lp, {}, limits.max_nodes, limits.safety_time_limit_ms);
  if (found.empty()) return {};
  const std::vector<double>& best = found.back().second;
  // Hand the nodes of each content out over the zones as the program split them.
  std::vector<std::vector<int>> left(C, std::vector<int>(Z, 0));
  for (int c = 0; c < C; ++c) {
    for (int z = 0; z < Z; ++z) left[c][z] = static_cast<int>(std::lround(best[c * Z + z + 1]));
  }
  std::vector<int> zones(nodes.size(), 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    int c = content_of[i];
    int z = 0;
    while (z < Z - 1 && left[c][z] <= 0) ++z;
    --left[c][z];
    zones[i] = z;
  }
  return zones;
}

}  // namespace byoc::plan::packing
