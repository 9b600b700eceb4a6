#include "plan/packing/glpk.h"

#include <limits>

namespace byoc::plan::packing {

GlpkProblem::GlpkProblem() {
  glp_term_out(GLP_OFF);
  lp_ = glp_create_prob();
}

GlpkProblem::~GlpkProblem() { glp_delete_prob(lp_); }

namespace {

// What the branch-and-bound callback needs: the node limit, a start to hand GLPK once, and the improving
// solutions found so far (GLPK keeps only the last).
struct Search {
  int64_t max_nodes = 0;
  std::vector<double> start;  // 1-based column values; empty: none
  bool started = false;
  int columns = 0;
  double sense = 1;  // +1 minimise, −1 maximise
  double last = std::numeric_limits<double>::infinity();  // sense × the last objective found
  std::vector<std::pair<double, std::vector<double>>> found;  // (objective, 1-based column values)
};

void on_search_event(glp_tree* tree, void* info) {
  auto* search = static_cast<Search*>(info);
  glp_prob* lp = glp_ios_get_prob(tree);
  if (glp_ios_reason(tree) == GLP_IHEUR && !search->started && !search->start.empty()) {
    search->started = true;
    glp_ios_heur_sol(tree, search->start.data());
  }
  if (glp_mip_status(lp) == GLP_FEAS && search->sense * glp_mip_obj_val(lp) < search->last - 1e-9) {
    search->last = search->sense * glp_mip_obj_val(lp);
    std::vector<double> values(search->columns + 1, 0);
    for (int j = 1; j <= search->columns; ++j) values[j] = glp_mip_col_val(lp, j);
    search->found.emplace_back(glp_mip_obj_val(lp), std::move(values));
  }
  int active = 0, current = 0, total = 0;
  glp_ios_tree_size(tree, &active, &current, &total);
  if (total > search->max_nodes) glp_ios_terminate(tree);
}

}  // namespace

std::vector<std::pair<double, std::vector<double>>> branch_and_bound(glp_prob* lp, std::vector<double> start,
                                                                     int64_t max_nodes, int safety_time_limit_ms) {
  glp_smcp smcp;
  glp_init_smcp(&smcp);
  smcp.msg_lev = GLP_MSG_OFF;
  smcp.tm_lim = safety_time_limit_ms;
  if (glp_simplex(lp, &smcp) != 0 || glp_get_status(lp) != GLP_OPT) return {};
  Search search;
  search.max_nodes = max_nodes;
  search.start = std::move(start);
  search.columns = glp_get_num_cols(lp);
  search.sense = glp_get_obj_dir(lp) == GLP_MIN ? 1 : -1;
  glp_iocp iocp;
  glp_init_iocp(&iocp);
  iocp.msg_lev = GLP_MSG_OFF;
  iocp.tm_lim = safety_time_limit_ms;
  iocp.mip_gap = 1e-4;
  iocp.cb_func = on_search_event;
  iocp.cb_info = &search;
  glp_intopt(lp, &iocp);
  int status = glp_mip_status(lp);
  if ((status == GLP_OPT || status == GLP_FEAS) && search.sense * glp_mip_obj_val(lp) < search.last - 1e-9) {
    std::vector<double> values(search.columns + 1, 0);
    for (int j = 1; j <= search.columns; ++j) values[j] = glp_mip_col_val(lp, j);
    search.found.emplace_back(glp_mip_obj_val(lp), std::move(values));
  }
  return std::move(search.found);
}

}  // namespace byoc::plan::packing
