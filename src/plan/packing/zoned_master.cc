#include "plan/packing/zoned_master.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "plan/packing/glpk.h"

namespace byoc::plan::packing {

namespace {

using ContentKey = std::pair<int, std::vector<std::pair<int, int>>>;

ContentKey key_of(const Pattern& p) {
  ContentKey key{p.type, p.items};
  std::sort(key.second.begin(), key.second.end());
  return key;
}

// Per (class, zone), how many of the class's replicas the zone may take given `base`: the sums over the class's
// item groups of each group's per-zone minimum and maximum. A class whose sums can't meet its demand (only if
// `base` already breaks the spread) gets [0, demand] everywhere: the repair sorts it out.
struct ZoneRange {
  std::vector<std::vector<int>> lo, hi;  // [class][zone]
};

ZoneRange zone_ranges(const Layout& base, const std::vector<ItemClass>& classes) {
  const Problem& p = base.problem();
  const int zones = p.zone_count();
  ZoneRange range{std::vector<std::vector<int>>(classes.size(), std::vector<int>(zones, 0)),
                  std::vector<std::vector<int>>(classes.size(), std::vector<int>(zones, 0))};
  for (size_t k = 0; k < classes.size(); ++k) {
    for (const ItemGroup& ig : classes[k].item_groups) {
      const Group& g = p.groups[ig.group];
      const int mine = static_cast<int>(ig.replicas.size());
      const int others = std::max(0, base.unplaced(ig.group) - mine);  // the group's other unplaced replicas
      for (int z = 0; z < zones; ++z) {
        int there = base.zone_count(ig.group, z);
        range.lo[k][z] += std::max(0, g.zone_min - there - others);
        range.hi[k][z] += std::max(0, std::min(mine, g.zone_max - there));
      }
    }
    int lo_sum = std::accumulate(range.lo[k].begin(), range.lo[k].end(), 0);
    int hi_sum = std::accumulate(range.hi[k].begin(), range.hi[k].end(), 0);
    if (lo_sum > classes[k].demand() || hi_sum < classes[k].demand()) {
      std::fill(range.lo[k].begin(), range.lo[k].end(), 0);
      std::fill(range.hi[k].begin(), range.hi[k].end(), classes[k].demand());
    }
  }
  return range;
}

// A u for the given slots, or nullopt when they can't hold the demand within the ranges: the minimum per zone,
// then zones filled up to min(maximum, slots). Exact for this interval structure.
std::optional<std::vector<std::vector<double>>> zone_use(const ZoneRange& range, const std::vector<ItemClass>& classes,
                                                         const std::vector<std::vector<int>>& slots) {
  std::vector<std::vector<double>> u(classes.size());
  for (size_t k = 0; k < classes.size(); ++k) {
    const int zones = static_cast<int>(slots[k].size());
    int left = classes[k].demand();
    u[k].assign(zones, 0);
    for (int z = 0; z < zones; ++z) {
      if (range.lo[k][z] > slots[k][z]) return std::nullopt;
      u[k][z] = range.lo[k][z];
      left -= range.lo[k][z];
    }
    for (int z = 0; z < zones && left > 0; ++z) {
      int more = std::min(left, std::min(range.hi[k][z], slots[k][z]) - range.lo[k][z]);
      if (more > 0) {
        u[k][z] += more;
        left -= more;
      }
    }
    if (left != 0) return std::nullopt;
  }
  return u;
}

}  // namespace

std::vector<ZonedNode> zoned_nodes_of(const Layout& base, const Layout& layout, const std::vector<ItemClass>& classes) {
  std::vector<int> class_of(layout.problem().replicas.size(), -1);
  for (size_t k = 0; k < classes.size(); ++k) {
    for (const auto& ig : classes[k].item_groups) {
      for (int r : ig.replicas) {
        if (layout.node_of(r) < base.node_count()) return {};
        class_of[r] = static_cast<int>(k);
      }
    }
  }
  std::vector<ZonedNode> out;
  for (int n = base.node_count(); n < layout.node_count(); ++n) {
    std::map<int, int> counts;
    for (int r : layout.node(n).replicas) {
      if (class_of[r] < 0) return {};
      ++counts[class_of[r]];
    }
    if (counts.empty()) continue;
    out.push_back(ZonedNode{Pattern{layout.node(n).type, {counts.begin(), counts.end()}}, layout.node(n).zone});
  }
  return out;
}

std::optional<std::vector<ZonedNode>> solve_zoned_master(const Layout& base, const std::vector<ItemClass>& classes,
                                                         const std::vector<Pattern>& contents,
                                                         const std::vector<ZonedNode>& start,
                                                         const IntegerMasterLimits& limits) {
  const Problem& problem = base.problem();
  const int K = static_cast<int>(classes.size());
  const int Z = problem.zone_count();
  if (K == 0 || Z == 0) return std::nullopt;
  const ZoneRange range = zone_ranges(base, classes);

  std::vector<Pattern> columns;
  std::map<ContentKey, int> column_of;
  auto add_column = [&](const Pattern& pattern) {
    auto [it, added] = column_of.emplace(key_of(pattern), static_cast<int>(columns.size()));
    if (added) columns.push_back(Pattern{pattern.type, it->first.second});
    return it->second;
  };
  for (const Pattern& p : contents) {
    if (pattern_fits(problem, classes, p)) add_column(p);
  }
  std::vector<std::pair<int, int>> start_columns;  // (column, zone)
  for (const ZonedNode& node : start) {
    if (!pattern_fits(problem, classes, node.pattern) || node.zone < 0 || node.zone >= Z) return std::nullopt;
    start_columns.emplace_back(add_column(node.pattern), node.zone);
  }
  const int P = static_cast<int>(columns.size());
  // Past a few hundred columns GLPK's branch and bound rarely improves on the start within its node limit and
  // the node LPs get slow: not worth the time.
  if (P == 0 || P * Z > limits.max_patterns) return std::nullopt;

  GlpkProblem holder;
  glp_prob* lp = holder.get();
  glp_set_obj_dir(lp, GLP_MIN);
  // Rows: (class, zone) slots − u ≥ 0, then per class Σ_z u = demand.
  glp_add_rows(lp, K * Z + K);
  for (int k = 0; k < K; ++k) {
    for (int z = 0; z < Z; ++z) glp_set_row_bnds(lp, k * Z + z + 1, GLP_LO, 0, 0);
    glp_set_row_bnds(lp, K * Z + k + 1, GLP_FX, classes[k].demand(), classes[k].demand());
  }
  // Columns: nodes(content, zone) at 1 + p·Z + z, then u(class, zone) at 1 + P·Z + k·Z + z.
  glp_add_cols(lp, P * Z + K * Z);
  for (int p = 0; p < P; ++p) {
    for (int z = 0; z < Z; ++z) {
      int col = p * Z + z + 1;
      glp_set_col_kind(lp, col, GLP_IV);
      glp_set_col_bnds(lp, col, GLP_LO, 0, 0);
      glp_set_obj_coef(lp, col, problem.types[columns[p].type].price);
      std::vector<int> ind{0};
      std::vector<double> val{0};
      for (auto [k, n] : columns[p].items) {
        ind.push_back(k * Z + z + 1);
        val.push_back(n);
      }
      glp_set_mat_col(lp, col, static_cast<int>(ind.size()) - 1, ind.data(), val.data());
    }
  }
  for (int k = 0; k < K; ++k) {
    for (int z = 0; z < Z; ++z) {
      int col = P * Z + k * Z + z + 1;
      int lo = range.lo[k][z], hi = range.hi[k][z];
      glp_set_col_bnds(lp, col, lo == hi ? GLP_FX : GLP_DB, lo, hi);
      int ind[] = {0, k * Z + z + 1, K * Z + k + 1};
      double val[] = {0, -1, 1};
      glp_set_mat_col(lp, col, 2, ind, val);
    }
  }

  std::vector<double> start_values;
  if (!start_columns.empty()) {
    std::vector<std::vector<int>> slots(K, std::vector<int>(Z, 0));
    start_values.assign(P * Z + K * Z + 1, 0);
    for (auto [p, z] : start_columns) {
      start_values[p * Z + z + 1] += 1;
      for (auto [k, n] : columns[p].items) slots[k][z] += n;
    }
    if (auto u = zone_use(range, classes, slots)) {
      for (int k = 0; k < K; ++k) {
        for (int z = 0; z < Z; ++z) start_values[P * Z + k * Z + z + 1] = (*u)[k][z];
      }
    } else {
      start_values.clear();
    }
  }
  auto found = branch_and_bound(lp, std::move(start_values), limits.max_nodes, limits.safety_time_limit_ms);
  if (found.empty()) return std::nullopt;
  const std::vector<double>& best = found.back().second;
  std::vector<ZonedNode> nodes;
  for (int p = 0; p < P; ++p) {
    for (int z = 0; z < Z; ++z) {
      long copies = std::lround(best[p * Z + z + 1]);
      for (long c = 0; c < copies; ++c) nodes.push_back(ZonedNode{columns[p], z});
    }
  }
  return nodes;
}

}  // namespace byoc::plan::packing
