// Property tests of the upgrader over random fleets, windows and time zones
// (starts near DST changes, east and west of UTC): every run keeps the
// invariants of upgrade_checks.h, with and without injected faults, and a
// crash at every crash point converges to the uninterrupted run's world.
#include <gtest/gtest.h>

#include "base/clock.h"
#include "upgrade_checks.h"

namespace byoc::plan::upgrade::testing {
namespace {

std::string describe(const Fleet& f, uint64_t seed) {
  return "fleet seed " + std::to_string(seed) + ", start " + format_rfc3339(f.start.time_since_epoch().count()) +
         ", zone " + f.windows.begin()->second.time_zone;
}

TEST(UpgradeProperties, RandomFleetsKeepEveryInvariant) {
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    std::mt19937_64 rng(seed);
    Fleet fleet = random_fleet(rng);
    SimulatedRun run = run_simulated_upgrade(fleet, seed);
    for (const std::string& v : violations(fleet, run)) ADD_FAILURE() << describe(fleet, seed) << ": " << v;
    for (const auto& [node, reason] : run.outcome.quarantined) {
      ADD_FAILURE() << describe(fleet, seed) << ": " << node << " quarantined (" << reason << ")";
    }
    EXPECT_TRUE(run.outcome.failed_node_groups.empty()) << describe(fleet, seed);
  }
}

TEST(UpgradeProperties, FaultsAreSurvived) {
  int quarantines = 0, failures = 0, throttles = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    std::mt19937_64 rng(seed * 7919);
    Fleet fleet = random_fleet(rng, {.faults = true});
    SimulatedRun run = run_simulated_upgrade(fleet, seed);
    for (const std::string& v : violations(fleet, run)) ADD_FAILURE() << describe(fleet, seed) << ": " << v;
    quarantines += !run.outcome.quarantined.empty();
    for (const UpgradeEvent& e : run.events) {
      failures += e.action == "node_group_failed";
      throttles += e.action == "throttled";
    }
    // A stuck pod's node is quarantined, never forced: the pod is still there.
    for (const std::string& pod : fleet.faults.stuck_pods) {
      bool moved = false;
      for (const EvictionRecord& e : run.evictions) moved = moved || e.pod == pod;
      if (moved) EXPECT_FALSE(run.outcome.quarantined.empty()) << describe(fleet, seed);
    }
  }
  // The faults were exercised, not dodged.
  EXPECT_GT(quarantines, 5);
  EXPECT_GT(failures, 20);
  EXPECT_GT(throttles, 100);
}

// The world without the pods that started on a quarantined node: which of those left before the node was
// given up on depends on timing, and a crash (or a 429) changes timing. Every other pod must end the same.
WorldSummary settled_part(WorldSummary world, const Fleet& fleet, const std::map<std::string, std::string>& quarantined) {
  for (const FleetPod& p : fleet.pods) {
    if (quarantined.contains(p.node)) world.pod_groups.erase(p.name);
  }
  return world;
}

TEST(UpgradeProperties, CrashAtEveryPointConvergesToTheSameWorld) {
  int crashes = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed * 104729);
    Fleet fleet = random_fleet(rng, {.max_groups = 2, .max_nodes_per_group = 2, .max_services = 2, .max_shards = 2,
                                     .max_replicas = 3, .faults = seed % 2 == 0});
    SimulatedRun whole = run_simulated_upgrade(fleet, seed);
    ASSERT_TRUE(violations(fleet, whole).empty()) << describe(fleet, seed);
    for (int64_t k = 1; k <= whole.crash_points; ++k) {
      SimulatedRun crashed = run_simulated_upgrade(fleet, seed, k);
      ++crashes;
      for (const std::string& v : violations(fleet, crashed)) {
        ADD_FAILURE() << describe(fleet, seed) << ", crash at " << k << ": " << v;
      }
      EXPECT_EQ(settled_part(crashed.world, fleet, crashed.outcome.quarantined),
                settled_part(whole.world, fleet, whole.outcome.quarantined))
          << describe(fleet, seed) << ", crash at " << k;
      EXPECT_EQ(crashed.outcome.quarantined, whole.outcome.quarantined) << describe(fleet, seed) << ", crash at " << k;
      bool resumed = std::any_of(crashed.events.begin(), crashed.events.end(),
                                 [](const UpgradeEvent& e) { return e.action == "crash"; });
      EXPECT_TRUE(resumed) << "crash point " << k << " of " << whole.crash_points << " was never reached";
    }
  }
  EXPECT_GT(crashes, 500);
  RecordProperty("crashes", crashes);
}

}  // namespace
}  // namespace byoc::plan::upgrade::testing
