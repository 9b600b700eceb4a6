#include "plan/packing/glpk.h"

namespace byoc::plan::packing {

GlpkProblem::GlpkProblem() {
  glp_term_out(GLP_OFF);
  lp_ = glp_create_prob();
}

GlpkProblem::~GlpkProblem() { glp_delete_prob(lp_); }

}  // namespace byoc::plan::packing
