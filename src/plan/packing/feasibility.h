// find_violation: the one checker of the placement rules, used by every solver on its own output (a violation is
// a bug, raised as an internal error) and by the tests on every plan they see.
//
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "plan/packing/problem.h"

namespace byoc::plan::packing {

// nullopt when every replica is on exactly one node within its room, no node holds two replicas of a group, and
// every group's per-zone counts are within [zone_min, zone_max]; otherwise what is wrong, in one line.
std::optional<std::string> find_violation(const Problem& problem, const Solution& solution);

// Throws byoc::Error (internal) naming `solver` when find_violation finds something.
void check_or_throw(const Problem& problem, const Solution& solution, const char* solver);

}  // namespace byoc::plan::packing
