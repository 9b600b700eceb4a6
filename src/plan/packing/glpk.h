// GlpkProblem: owns one glp_prob for the duration of one solve, with GLPK's terminal output switched off. Every
// solver call makes its own, so no solver state outlives a call or is shared.
//
// Not thread-safe: GLPK's environment is per thread; use a GlpkProblem only on the thread that made it.
#pragma once

#include <glpk.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace byoc::plan::packing {

class GlpkProblem {
 public:
  GlpkProblem();
  ~GlpkProblem();
  GlpkProblem(const GlpkProblem&) = delete;
  GlpkProblem& operator=(const GlpkProblem&) = delete;

  glp_prob* get() const { return lp_; }

 private:
  glp_prob* lp_;
};

// Runs GLPK's simplex, then its branch and bound on `lp` (integer columns marked), stopping after `max_nodes`
// nodes — a limit that doesn't depend on the machine's speed — or at the safety-net time limit. `start` (1-based
// column values, may be empty) is handed to GLPK as a known solution; it must satisfy every row. Returns every
// improving integer solution found as (objective, 1-based column values), in the order found: the last is the
// best.
std::vector<std::pair<double, std::vector<double>>> branch_and_bound(glp_prob* lp, std::vector<double> start,
                                                                     int64_t max_nodes, int safety_time_limit_ms);

}  // namespace byoc::plan::packing
