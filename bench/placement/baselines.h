// Baselines the benchmark compares the planner with, computed by the same binary on the same Problem:
//
// - cluster-autoscaler-like: every replica goes to the node group of its profile (the cheapest type that holds
//   it), first fit onto that group's nodes, a new node of the group otherwise. On scale-in replicas shrink in
//   place and never move to a smaller type; the autoscaler removes a node only when it is under 50% used and its
//   replicas fit on other nodes of the same group.
// - Karpenter-like: first-fit decreasing by CPU onto node claims that any allowed type could still hold, each
//   claim launched as the cheapest type that fits what it got. On scale-in, single-node consolidation, one
//   action at a time: delete a node whose replicas fit elsewhere, or replace it with one cheaper node.
//
// Both obey the same rules as the planner (anti-affinity, zone spread); the benchmark checks every plan.
#pragma once

#include "plan/packing/layout.h"
#include "plan/packing/problem.h"

namespace byoc::bench {

struct BaselineResult {
  plan::packing::Solution solution;
  int migrations = 0;  // scale-in only
};

BaselineResult autoscaler_initial(const plan::packing::Problem& problem);
// `before` is autoscaler_initial's plan of `old_problem`; replica ids link the two problems.
BaselineResult autoscaler_scale_in(const plan::packing::Problem& old_problem, const plan::packing::Solution& before,
                                   const plan::packing::Problem& problem);

BaselineResult karpenter_initial(const plan::packing::Problem& problem);
BaselineResult karpenter_scale_in(const plan::packing::Problem& old_problem, const plan::packing::Solution& before,
                                  const plan::packing::Problem& problem);

}  // namespace byoc::bench
