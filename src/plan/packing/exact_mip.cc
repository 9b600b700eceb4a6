#include "plan/packing/exact_mip.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "plan/packing/glpk.h"

namespace byoc::plan::packing {

namespace {

class Model {
 public:
  explicit Model(glp_prob* lp) : lp_(lp) {}

  int binary(double cost = 0) {
    int col = glp_add_cols(lp_, 1);
    glp_set_col_kind(lp_, col, GLP_BV);
    glp_set_obj_coef(lp_, col, cost);
    return col;
  }
  // lo <= Σ coef·col <= hi; pass -inf/inf via the kind.
  void row(const std::vector<std::pair<int, double>>& terms, int kind, double lo, double hi) {
    int r = glp_add_rows(lp_, 1);
    glp_set_row_bnds(lp_, r, kind, lo, hi);
    std::vector<int> ind{0};
    std::vector<double> val{0};
    for (auto [c, v] : terms) {
      ind.push_back(c);
      val.push_back(v);
    }
    glp_set_mat_row(lp_, r, static_cast<int>(terms.size()), ind.data(), val.data());
  }

 private:
  glp_prob* lp_;
};

struct Callback {
  std::vector<double> start;  // 1-based column values of the incumbent
  bool given = false;
};

void on_event(glp_tree* tree, void* info) {
  auto* cb = static_cast<Callback*>(info);
  if (glp_ios_reason(tree) == GLP_IHEUR && !cb->given && !cb->start.empty()) {
    cb->given = true;
    glp_ios_heur_sol(tree, cb->start.data());
  }
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

}  // namespace

ExactResult solve_exact(const Problem& problem, const Solution& incumbent, double lower_bound, int time_limit_ms) {
  ExactResult result;
  const int n = static_cast<int>(problem.replicas.size());
  const int zones = problem.zone_count();
  if (n == 0) {
    result.solution = Solution{};
    result.optimal = true;
    return result;
  }
  // order[i] = replica at sorted position i.
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto weight = [&](int r) {
    const Resources& s = problem.replicas[r].size;
    return static_cast<double>(s.cpu_millis) + s.memory_mib / 4.0;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return weight(a) > weight(b); });
  std::vector<int> types;
  for (size_t t = 0; t < problem.types.size(); ++t) {
    if (!dominated(problem, static_cast<int>(t))) types.push_back(static_cast<int>(t));
  }

  GlpkProblem holder;
  glp_prob* lp = holder.get();
  glp_set_obj_dir(lp, GLP_MIN);
  Model m(lp);
  std::vector<std::vector<int>> x(n, std::vector<int>(n, 0));       // x[i][j], j <= i
  std::vector<std::vector<int>> y(n, std::vector<int>(types.size(), 0));
  std::vector<std::vector<int>> w(n, std::vector<int>(zones, 0));
  std::vector<std::vector<int>> u(n, std::vector<int>(zones, 0));
  auto group_at = [&](int i) { return problem.replicas[order[i]].group; };
  auto size_at = [&](int i) { return problem.replicas[order[i]].size; };

  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      if (j < i && group_at(i) == group_at(j)) continue;  // anti-affinity
      if (!(size_at(i) + size_at(j)).fits_in(problem.types.back().room) && j < i) {
        // Cheap pruning: the pair must fit the roomiest type in at least one dimension pair.
        bool any = false;
        for (int t : types) any = any || (size_at(i) + size_at(j)).fits_in(problem.types[t].room);
        if (!any) continue;
      }
      x[i][j] = m.binary();
    }
  }
  std::vector<std::pair<int, double>> objective_terms;
  for (int j = 0; j < n; ++j) {
    for (size_t k = 0; k < types.size(); ++k) {
      if (!size_at(j).fits_in(problem.types[types[k]].room)) continue;
      y[j][k] = m.binary(problem.types[types[k]].price);
      objective_terms.emplace_back(y[j][k], problem.types[types[k]].price);
    }
  }
  if (zones > 1) {
    for (int i = 0; i < n; ++i) {
      for (int z = 0; z < zones; ++z) {
        w[i][z] = m.binary();
        u[i][z] = m.binary();
      }
    }
  }

  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<int, double>> assign;
    for (int j = 0; j <= i; ++j) {
      if (x[i][j]) assign.emplace_back(x[i][j], 1);
    }
    m.row(assign, GLP_FX, 1, 1);
    for (int j = 0; j < i; ++j) {
      if (x[i][j]) m.row({{x[i][j], 1}, {x[j][j], -1}}, GLP_UP, 0, 0);
    }
  }
  for (int j = 0; j < n; ++j) {
    std::vector<std::pair<int, double>> pick{{x[j][j], -1}};
    std::vector<std::pair<int, double>> cpu, mem;
    for (size_t k = 0; k < types.size(); ++k) {
      if (!y[j][k]) continue;
      pick.emplace_back(y[j][k], 1);
      cpu.emplace_back(y[j][k], -static_cast<double>(problem.types[types[k]].room.cpu_millis));
      mem.emplace_back(y[j][k], -static_cast<double>(problem.types[types[k]].room.memory_mib));
    }
    m.row(pick, GLP_FX, 0, 0);
    for (int i = j; i < n; ++i) {
      if (!x[i][j]) continue;
      cpu.emplace_back(x[i][j], static_cast<double>(size_at(i).cpu_millis));
      mem.emplace_back(x[i][j], static_cast<double>(size_at(i).memory_mib));
    }
    m.row(cpu, GLP_UP, 0, 0);
    m.row(mem, GLP_UP, 0, 0);
  }
  if (zones > 1) {
    for (int j = 0; j < n; ++j) {
      std::vector<std::pair<int, double>> one{{x[j][j], -1}};
      for (int z = 0; z < zones; ++z) one.emplace_back(w[j][z], 1);
      m.row(one, GLP_FX, 0, 0);
    }
    for (int i = 0; i < n; ++i) {
      std::vector<std::pair<int, double>> one;
      for (int z = 0; z < zones; ++z) one.emplace_back(u[i][z], 1);
      m.row(one, GLP_FX, 1, 1);
      for (int j = 0; j <= i; ++j) {
        if (!x[i][j]) continue;
        for (int z = 0; z < zones; ++z) {
          if (j == i) {
            m.row({{w[i][z], 1}, {u[i][z], -1}}, GLP_UP, 0, 0);
          } else {
            m.row({{w[j][z], 1}, {x[i][j], 1}, {u[i][z], -1}}, GLP_UP, 0, 1);
          }
        }
      }
    }
    for (size_t g = 0; g < problem.groups.size(); ++g) {
      for (int z = 0; z < zones; ++z) {
        std::vector<std::pair<int, double>> count;
        for (int i = 0; i < n; ++i) {
          if (group_at(i) == static_cast<int>(g)) count.emplace_back(u[i][z], 1);
        }
        const Group& grp = problem.groups[g];
        if (grp.zone_min == grp.zone_max) {
          m.row(count, GLP_FX, grp.zone_min, grp.zone_min);
        } else {
          m.row(count, GLP_DB, grp.zone_min, grp.zone_max);
        }
      }
    }
    glp_set_col_bnds(lp, w[0][0], GLP_FX, 1, 1);
  }
  if (lower_bound > 0) m.row(objective_terms, GLP_LO, lower_bound * (1 - 1e-9), 0);

  // The incumbent, relabelled into the representative form.
  Callback cb;
  if (!incumbent.nodes.empty()) {
    std::vector<int> position(n);
    for (int i = 0; i < n; ++i) position[order[i]] = i;
    std::vector<double> start(glp_get_num_cols(lp) + 1, 0);
    bool ok = true;
    int zone_of_first = 0;
    for (const auto& node : incumbent.nodes) {
      for (int r : node.replicas) {
        if (position[r] == 0) zone_of_first = node.zone;
      }
    }
    auto relabel = [&](int z) { return z == zone_of_first ? 0 : (z == 0 ? zone_of_first : z); };
    for (const auto& node : incumbent.nodes) {
      int j = n;
      Resources load;
      for (int r : node.replicas) {
        j = std::min(j, position[r]);
        load += problem.replicas[r].size;
      }
      int t = problem.cheapest_fit(load);
      auto k = std::find(types.begin(), types.end(), t) - types.begin();
      if (t < 0 || k == static_cast<long>(types.size()) || !y[j][k]) {
        ok = false;
        break;
      }
      start[y[j][k]] = 1;
      for (int r : node.replicas) {
        int i = position[r];
        if (!x[i][j]) ok = false;
        else start[x[i][j]] = 1;
        if (zones > 1) start[u[i][relabel(node.zone)]] = 1;
      }
      if (zones > 1) start[w[j][relabel(node.zone)]] = 1;
    }
    if (ok) cb.start = std::move(start);
  }

  glp_smcp smcp;
  glp_init_smcp(&smcp);
  smcp.msg_lev = GLP_MSG_OFF;
  smcp.tm_lim = time_limit_ms;
  if (glp_simplex(lp, &smcp) != 0 || glp_get_status(lp) != GLP_OPT) return result;
  glp_iocp iocp;
  glp_init_iocp(&iocp);
  iocp.msg_lev = GLP_MSG_OFF;
  iocp.tm_lim = time_limit_ms;
  iocp.mir_cuts = GLP_ON;
  iocp.cov_cuts = GLP_ON;
  iocp.clq_cuts = GLP_ON;
  iocp.cb_func = on_event;
  iocp.cb_info = &cb;
  int rc = glp_intopt(lp, &iocp);
  int status = glp_mip_status(lp);
  if (status != GLP_OPT && status != GLP_FEAS) return result;
  result.optimal = rc == 0 && status == GLP_OPT;

  Solution s;
  std::vector<int> node_of_rep(n, -1);
  for (int j = 0; j < n; ++j) {
    if (!x[j][j] || glp_mip_col_val(lp, x[j][j]) < 0.5) continue;
    Node node;
    node.type = -1;
    for (size_t k = 0; k < types.size(); ++k) {
      if (y[j][k] && glp_mip_col_val(lp, y[j][k]) > 0.5) node.type = types[k];
    }
    node.zone = 0;
    for (int z = 0; zones > 1 && z < zones; ++z) {
      if (glp_mip_col_val(lp, w[j][z]) > 0.5) node.zone = z;
    }
    for (int i = j; i < n; ++i) {
      if (x[i][j] && glp_mip_col_val(lp, x[i][j]) > 0.5) node.replicas.push_back(order[i]);
    }
    s.nodes.push_back(std::move(node));
  }
  result.solution = std::move(s);
  return result;
}

}  // namespace byoc::plan::packing
