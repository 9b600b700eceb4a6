// The upgrader run the controller's way (controllers/cluster_upgrade_run.h):
// every wait a Suspend, every resume a fresh upgrader on the same journal.
// Over random fleets it reaches the world one uninterrupted run reaches,
// keeps every invariant of the property tests, and a run after completion
// makes no mutating call.
#include "controllers/cluster_upgrade_run.h"

#include <gtest/gtest.h>

#include <random>

#include "../plan/upgrade/upgrade_checks.h"
#include "base/clock.h"
#include "plan/upgrade/simulated_run.h"

namespace byoc::controllers {
namespace {

using namespace plan::upgrade;

int64_t unix_of(plan::Instant t) { return t.time_since_epoch().count(); }

// Runs fresh upgraders on `journal` until one finishes: each Suspend{t}
// moves the clock to t (what the controller's requeue does).
UpgradeOutcome run_to_end(const UpgradeTarget& target, Simulator& world, ManualClock& clock, UpgradeJournal& journal,
                          std::vector<UpgradeEvent>& events, int& suspends) {
  SuspendingTimeline timeline(clock);
  for (;;) {
    try {
      Upgrader upgrader(target, world, world, timeline, journal, events);
      return upgrader.run();
    } catch (const Suspend& s) {
      EXPECT_GT(s.until, timeline.now());
      clock.advance(std::chrono::seconds(unix_of(s.until) - unix_of(timeline.now())));
      ++suspends;
    }
  }
}

// As run_simulated_upgrade, but suspended at every wait.
SimulatedRun run_with_suspends(const Fleet& fleet, uint64_t seed, int& suspends) {
  ManualClock clock(unix_of(fleet.start));
  Simulator world(fleet, seed, clock);
  MemoryJournal journal;
  UpgradeTarget target = upgrade_target(fleet);
  SimulatedRun run;
  run.outcome = run_to_end(target, world, clock, journal, run.events, suspends);
  run.finished = plan::Instant{std::chrono::seconds{clock.unix_seconds()}};
  record_world(world, run);
  int before = world.mutating_calls();
  std::vector<UpgradeEvent> again_events;
  int again_suspends = 0;  // only throttling's backoff: nothing is left to wait for
  EXPECT_TRUE(run_to_end(target, world, clock, journal, again_events, again_suspends).done);
  run.rerun_mutating_calls = world.mutating_calls() - before;
  return run;
}

std::vector<UpgradeEvent> without_resumes(std::vector<UpgradeEvent> events) {
  std::erase_if(events, [](const UpgradeEvent& e) { return e.action == "resume"; });
  return events;
}

TEST(ClusterUpgradeRun, SuspendingAtEveryWaitReachesTheUninterruptedRunsWorld) {
  int suspends = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    std::mt19937_64 rng(seed * 7919);
    Fleet fleet = testing::random_fleet(rng);
    SimulatedRun whole = run_simulated_upgrade(fleet, seed);
    SimulatedRun suspended = run_with_suspends(fleet, seed, suspends);
    for (const std::string& v : testing::violations(fleet, suspended)) ADD_FAILURE() << "seed " << seed << ": " << v;
    EXPECT_EQ(suspended.world, whole.world) << "seed " << seed;
    EXPECT_EQ(suspended.nodegroups_created, whole.nodegroups_created) << "seed " << seed;  // no duplicate group
    EXPECT_EQ(suspended.outcome.quarantined, whole.outcome.quarantined) << "seed " << seed;
    EXPECT_EQ(suspended.finished, whole.finished) << "seed " << seed;
    // The same steps at the same times: a suspend is only where the run waited.
    EXPECT_EQ(without_resumes(suspended.events), whole.events) << "seed " << seed;
    EXPECT_EQ(suspended.rerun_mutating_calls, 0) << "seed " << seed;
  }
  EXPECT_GT(suspends, 100);
}

TEST(ClusterUpgradeRun, WithFaultsEveryInvariantHolds) {
  int suspends = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    std::mt19937_64 rng(seed * 104729);
    Fleet fleet = testing::random_fleet(rng, {.faults = true});
    SimulatedRun suspended = run_with_suspends(fleet, seed, suspends);
    for (const std::string& v : testing::violations(fleet, suspended)) ADD_FAILURE() << "seed " << seed << ": " << v;
  }
}

TEST(ClusterUpgradeRun, TheTimelineSuspendsOnlyForTheFuture) {
  ManualClock clock(1'800'000'000);
  SuspendingTimeline timeline(clock);
  EXPECT_EQ(unix_of(timeline.now()), 1'800'000'000);
  timeline.wait_until(timeline.now());  // returns
  timeline.wait_until(timeline.now() - std::chrono::seconds(5));
  try {
    timeline.wait_until(timeline.now() + std::chrono::seconds(30));
    ADD_FAILURE() << "no Suspend";
  } catch (const Suspend& s) {
    EXPECT_EQ(unix_of(s.until), 1'800'000'030);
  }
}

}  // namespace
}  // namespace byoc::controllers
