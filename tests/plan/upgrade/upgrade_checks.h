// Random fleets for the upgrader's property tests, and the invariants every
// run must keep, each checked from the simulator's record of what happened
// (not from what the upgrader believes).
#pragma once

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "plan/upgrade/fleet.h"
#include "plan/upgrade/simulated_run.h"

namespace byoc::plan::upgrade::testing {

struct RandomFleetOptions {
  int max_groups = 2;
  int max_nodes_per_group = 3;
  int max_services = 3;
  int max_shards = 2;
  int max_replicas = 3;
  bool faults = false;  // throttling, creation failures, a stuck pod
};

// Windows in zones east and west of UTC, starting near a DST change.
Fleet random_fleet(std::mt19937_64& rng, const RandomFleetOptions& options = {});

// Every violated invariant, described; empty when the run kept them all.
std::vector<std::string> violations(const Fleet& fleet, const SimulatedRun& run);

}  // namespace byoc::plan::upgrade::testing

namespace byoc::plan::upgrade {
// For GoogleTest's messages.
void PrintTo(const WorldSummary& world, std::ostream* out);
}  // namespace byoc::plan::upgrade

namespace byoc::plan::upgrade::testing {

// Instant of an RFC 3339 UTC text (test literals).
Instant at(const char* rfc3339);

}  // namespace byoc::plan::upgrade::testing
