// Test helpers for the placement planner, written apart from the planner so they can catch its mistakes: a
// checker of the public plan against the rules, a brute-force optimum for tiny instances, and small instance
// generators.
#pragma once

#include <optional>
#include <random>
#include <string>

#include "plan/placement.h"

namespace byoc::plan::testing {

// nullopt when `plan` places every replica of `input` exactly once, within each node's allocatable, never two
// replicas of a (service, shard) on one node, spread over zones; and its cost, node groups and bound add up.
std::optional<std::string> plan_violation(const PlacementInput& input, const PlacementPlan& plan);

// The cheapest plan for a tiny instance (≤ 8 replicas), by enumerating every partition into nodes and every zone
// assignment. -1 when no plan exists.
double brute_force_optimum(const PlacementInput& input);

// Random packed instance: `replicas` replicas in groups of 1–3, sizes on a coarse grid so nodes can share.
PlacementInput random_instance(std::mt19937& rng, int replicas, int zones, std::vector<std::string> types);

}  // namespace byoc::plan::testing
