// solve_dedicated: one replica per node, each on the cheapest allowed type that holds it — optimal, since with
// one replica per node the nodes are independent — with the replicas of each group spread round-robin over the
// zones, starting from the emptiest zone so the node groups stay balanced.
//
// Pure; thread-safe.
#pragma once

#include "plan/packing/problem.h"

namespace byoc::plan::packing {

Solution solve_dedicated(const Problem& problem);

}  // namespace byoc::plan::packing
