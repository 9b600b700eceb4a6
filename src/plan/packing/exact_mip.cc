#include "plan/packing/exact_mip.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "plan/packing/glpk.h"

namespace byoc::plan::packing {

namespace {

struct Content {
  std::vector<int> replicas;
  int type = 0;
};

// Depth-first over replicas (largest first): every non-empty set that some type holds, with no two replicas of a
// group. False when there are more than `limit`.
bool enumerate(const Problem& problem, int64_t limit, std::vector<Content>& out) {
  const int n = static_cast<int>(problem.replicas.size());
  Resources roomiest{0, 0};
  for (const auto& t : problem.types) {
    roomiest.cpu_millis = std::max(roomiest.cpu_millis, t.room.cpu_millis);
    roomiest.memory_mib = std::max(roomiest.memory_mib, t.room.memory_mib);
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::vector<int> chosen;
  std::vector<int> groups_used(problem.groups.size(), 0);
  bool ok = true;
  std::function<void(int, Resources)> dfs = [&](int i, Resources load) {
    if (!ok) return;
    if (i == n) {
      if (chosen.empty()) return;
      int t = problem.cheapest_fit(load);
      if (t < 0) return;
      if (static_cast<int64_t>(out.size()) >= limit) {
        ok = false;
        return;
      }
      out.push_back(Content{chosen, t});
      return;
    }
    int r = order[i];
    const Replica& rep = problem.replicas[r];
    Resources with = load + rep.size;
    if (!groups_used[rep.group] && with.fits_in(roomiest) && problem.cheapest_fit(with) >= 0) {
      chosen.push_back(r);
      groups_used[rep.group] = 1;
      dfs(i + 1, with);
      groups_used[rep.group] = 0;
      chosen.pop_back();
    }
    dfs(i + 1, load);
  };
  dfs(0, Resources{});
  return ok;
}

// Stops the branch and bound after *info nodes: a limit that doesn't depend on the machine's speed.
void stop_after_nodes(glp_tree* tree, void* info) {
  int active = 0, current = 0, total = 0;
  glp_ios_tree_size(tree, &active, &current, &total);
  if (total > *static_cast<const int64_t*>(info)) glp_ios_terminate(tree);
}

}  // namespace

ExactResult solve_exact(const Problem& problem, int64_t max_nodes, int safety_time_limit_ms, int64_t max_contents) {
  ExactResult result;
  const int n = static_cast<int>(problem.replicas.size());
  const int zones = problem.zone_count();
  if (n == 0) {
    result.solution = Solution{};
    result.optimal = true;
    return result;
  }
  std::vector<Content> contents;
  if (!enumerate(problem, max_contents / std::max(1, zones), contents)) return result;

  GlpkProblem holder;
  glp_prob* lp = holder.get();
  glp_set_obj_dir(lp, GLP_MIN);
  // Rows: one per replica (covered once), one per (group, zone) (spread).
  glp_add_rows(lp, n + static_cast<int>(problem.groups.size()) * zones);
  for (int r = 0; r < n; ++r) glp_set_row_bnds(lp, r + 1, GLP_FX, 1, 1);
  for (size_t g = 0; g < problem.groups.size(); ++g) {
    const Group& grp = problem.groups[g];
    for (int z = 0; z < zones; ++z) {
      int row = n + static_cast<int>(g) * zones + z + 1;
      if (grp.zone_min == grp.zone_max) {
        glp_set_row_bnds(lp, row, GLP_FX, grp.zone_min, grp.zone_min);
      } else {
        glp_set_row_bnds(lp, row, GLP_DB, grp.zone_min, grp.zone_max);
      }
    }
  }
  const int cols = static_cast<int>(contents.size()) * zones;
  glp_add_cols(lp, cols);
  for (size_t c = 0; c < contents.size(); ++c) {
    for (int z = 0; z < zones; ++z) {
      int col = static_cast<int>(c) * zones + z + 1;
      glp_set_col_kind(lp, col, GLP_BV);
      glp_set_obj_coef(lp, col, problem.types[contents[c].type].price);
      std::vector<int> ind{0};
      std::vector<double> val{0};
      for (int r : contents[c].replicas) {
        ind.push_back(r + 1);
        val.push_back(1);
        ind.push_back(n + problem.replicas[r].group * zones + z + 1);
        val.push_back(1);
      }
      glp_set_mat_col(lp, col, static_cast<int>(ind.size()) - 1, ind.data(), val.data());
    }
  }
  glp_iocp iocp;
  glp_init_iocp(&iocp);
  iocp.msg_lev = GLP_MSG_OFF;
  iocp.presolve = GLP_ON;
  iocp.tm_lim = safety_time_limit_ms;
  iocp.clq_cuts = GLP_ON;
  iocp.cb_func = stop_after_nodes;
  iocp.cb_info = &max_nodes;
  int rc = glp_intopt(lp, &iocp);
  int status = glp_mip_status(lp);
  if (status != GLP_OPT && status != GLP_FEAS) return result;
  result.optimal = rc == 0 && status == GLP_OPT;
  Solution s;
  for (size_t c = 0; c < contents.size(); ++c) {
    for (int z = 0; z < zones; ++z) {
      if (glp_mip_col_val(lp, static_cast<int>(c) * zones + z + 1) > 0.5) {
        s.nodes.push_back(Node{contents[c].type, z, contents[c].replicas, -1});
      }
    }
  }
  result.solution = std::move(s);
  return result;
}

}  // namespace byoc::plan::packing
