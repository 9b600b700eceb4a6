// GlpkProblem: owns one glp_prob for the duration of one solve, with GLPK's terminal output switched off. Every
// solver call makes its own, so no solver state outlives a call or is shared.
//
// Not thread-safe: GLPK's environment is per thread; use a GlpkProblem only on the thread that made it.
#pragma once

#include <glpk.h>

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

}  // namespace byoc::plan::packing
