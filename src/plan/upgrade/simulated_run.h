// An upgrade run against the simulator, as `byoc plan upgrade`, the property
// tests and bench/upgrade drive it: the upgrader over a fresh simulated world
// of the fleet, optionally crashed at a crash point and resumed by a fresh
// upgrader on the same journal and world, then run once more over the
// finished world (which must make no mutating call).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/upgrade/fleet.h"
#include "plan/upgrade/simulator.h"
#include "plan/upgrade/upgrader.h"

namespace byoc::plan::upgrade {

struct SimulatedRun {
  std::vector<UpgradeEvent> events;
  UpgradeOutcome outcome;
  Instant finished;
  int64_t crash_points = 0;  // passed by the first upgrader (all of them when it did not crash)
  double surge_node_hours = 0;
  WorldSummary world;
  std::vector<EvictionRecord> evictions;
  int killed_pods = 0;
  int pdb_violations = 0;
  int nodegroups_created = 0;
  int rerun_mutating_calls = 0;  // by the run over the finished world
};

// What the upgrader is asked for a fleet: its target version, addons, windows, timeout, deadline.
UpgradeTarget upgrade_target(const Fleet& fleet);

// Fills `run`'s record of the world (surge, summary, evictions, kills, budget
// violations, groups created) from the simulator as it stands.
void record_world(Simulator& world, SimulatedRun& run);

// crash_at 0: no crash.
SimulatedRun run_simulated_upgrade(const Fleet& fleet, uint64_t seed, int64_t crash_at = 0,
                                   const SimDurations& durations = {}, UpgradeOptions options = {});

// `byoc plan upgrade`'s answer: {"events","wall_seconds","lower_bound_seconds","surge_node_hours","quarantined"}.
nlohmann::json upgrade_report_json(const Fleet& fleet, const SimulatedRun& run, std::chrono::seconds lower_bound);

}  // namespace byoc::plan::upgrade
