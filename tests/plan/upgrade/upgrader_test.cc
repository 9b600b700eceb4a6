// The upgrader on hand-made fleets: the order of its steps, windows on DST
// days, each fault it must survive, resuming without duplicates, and a run
// after completion making no mutating call.
#include "plan/upgrade/upgrader.h"

#include <gtest/gtest.h>

#include "plan/upgrade/lower_bound.h"
#include "plan/upgrade/simulated_run.h"
#include "upgrade_checks.h"

namespace byoc::plan::upgrade::testing {
namespace {

using std::chrono::minutes;

MaintenanceWindow daily(const char* zone, int start_minutes, int duration_minutes) {
  MaintenanceWindow w;
  w.time_zone = zone;
  WeeklyRule r;
  for (unsigned d = 0; d < 7; ++d) r.days.emplace_back(d);
  r.start = minutes{start_minutes};
  r.duration = minutes{duration_minutes};
  w.weekly.push_back(r);
  return w;
}

// One old group of two nodes, one service of one shard with two replicas.
Fleet small_fleet(const char* start, MaintenanceWindow window) {
  Fleet f;
  f.start = at(start);
  f.cluster_name = "prod";
  f.cluster_version = "1.30";
  f.target_version = "1.31";
  f.node_groups = {{"ng", "1.30", 2, "m6i.xlarge"}};
  f.pods = {{"db-0-0", "db", "0", "ng-0", true, minutes{30}}, {"db-0-1", "db", "0", "ng-1", true, minutes{30}}};
  f.pdbs = {{"db-0", "db", "0", 1}};
  f.windows["db"] = std::move(window);
  f.addons = {{"vpc-cni", "v1.18.0", "v1.19.0"}};
  return f;
}

std::vector<std::string> actions(const SimulatedRun& run) {
  std::vector<std::string> out;
  for (const UpgradeEvent& e : run.events) {
    if (out.empty() || out.back() != e.action) out.push_back(e.action);
  }
  return out;
}

TEST(Upgrader, StepsInOrder) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(violations(f, run).empty());
  EXPECT_EQ(actions(run), (std::vector<std::string>{"update_control_plane", "create_node_group", "node_ready", "taint",
                                                    "cordon", "taint", "cordon", "evict", "delete_node_group",
                                                    "update_addon", "done"}));
  EXPECT_EQ(run.world.node_groups, (std::map<std::string, std::string>{{"ng-1-31", "1.31 ACTIVE 2"}}));
  // The second replica leaves only once the first is back: drain 30 min, Ready 2 min after.
  ASSERT_EQ(run.evictions.size(), 2u);
  EXPECT_GE(run.evictions[1].at - run.evictions[0].at, minutes{32});
  EXPECT_LE(run.evictions[1].at - run.evictions[0].at, minutes{33});
}

// When the run evicted, having kept every invariant.
std::vector<Instant> eviction_times(const Fleet& f) {
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(violations(f, run).empty());
  std::vector<Instant> out;
  for (const EvictionRecord& e : run.evictions) out.push_back(e.at);
  return out;
}

TEST(Upgrader, WaitsForTheWindowAndEvictsWhenItOpens) {
  // Los Angeles, 2027-03-14: 02:30 does not exist; the window opens at 03:30 PDT (10:30Z). The second
  // replica follows once the first has drained (30 min) and is Ready again (2 min).
  Fleet f = small_fleet("2027-03-13T18:00:00Z", daily("America/Los_Angeles", 150, 120));
  EXPECT_EQ(eviction_times(f), (std::vector<Instant>{at("2027-03-14T10:30:00Z"), at("2027-03-14T11:02:00Z")}));
}

TEST(Upgrader, LeavesAPodWhoseDrainNoLongerFitsForTheNextWindow) {
  // Berlin, 2026-10-25: 02:00 local is 00:00Z (still CEST), a 60-minute window; the replacement is Ready at
  // 01:15Z, after it closed. The next night's (02:00 CET, 01:00Z) fits one 30-minute drain but not two.
  Fleet f = small_fleet("2026-10-25T00:40:00Z", daily("Europe/Berlin", 120, 60));
  EXPECT_EQ(eviction_times(f), (std::vector<Instant>{at("2026-10-26T01:00:00Z"), at("2026-10-27T01:00:00Z")}));
}

TEST(Upgrader, SydneyWindowOnTheSpringForwardNight) {
  // Sydney, 2026-10-04: 02:00–03:00 does not exist; a 02:30 start opens at 03:30 AEDT (16:30Z on the 3rd).
  Fleet f = small_fleet("2026-10-03T12:00:00Z", daily("Australia/Sydney", 150, 90));
  EXPECT_EQ(eviction_times(f), (std::vector<Instant>{at("2026-10-03T16:30:00Z"), at("2026-10-03T17:02:00Z")}));
}

TEST(Upgrader, LosAngelesWindowInTheRepeatedHour) {
  // Los Angeles, 2026-11-01: 01:30 happens twice; the window opens at the first, 01:30 PDT (08:30Z), and
  // runs 60 elapsed minutes: two 20-minute drains fit, a third replica waits for the next night (01:30 PST).
  Fleet f = small_fleet("2026-11-01T06:00:00Z", daily("America/Los_Angeles", 90, 60));
  f.pods = {{"db-0-0", "db", "0", "ng-0", true, minutes{20}}, {"db-0-1", "db", "0", "ng-1", true, minutes{20}},
            {"db-0-2", "db", "0", "ng-1", true, minutes{20}}};
  EXPECT_EQ(eviction_times(f), (std::vector<Instant>{at("2026-11-01T08:30:00Z"), at("2026-11-01T08:52:00Z"),
                                                     at("2026-11-02T09:30:00Z")}));
}

TEST(Upgrader, BerlinWindowInTheSpringGap) {
  // Berlin, 2027-03-28: 02:30 does not exist; the window opens at 03:30 CEST (01:30Z).
  Fleet f = small_fleet("2027-03-27T22:00:00Z", daily("Europe/Berlin", 150, 120));
  EXPECT_EQ(eviction_times(f), (std::vector<Instant>{at("2027-03-28T01:30:00Z"), at("2027-03-28T02:02:00Z")}));
}

TEST(Upgrader, NodeGroupCreationFailureIsRetriedWithoutADuplicate) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  f.faults.create_failures["ng"] = 2;
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(violations(f, run).empty());
  EXPECT_EQ(run.nodegroups_created, 1);
  EXPECT_EQ(std::count_if(run.events.begin(), run.events.end(),
                          [](const UpgradeEvent& e) { return e.action == "node_group_failed"; }),
            2);
}

TEST(Upgrader, NodeGroupThatKeepsFailingIsLeftAndReported) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  f.faults.create_failures["ng"] = 3;
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(violations(f, run).empty());
  EXPECT_EQ(run.outcome.failed_node_groups, std::vector<std::string>{"ng"});
  EXPECT_TRUE(run.evictions.empty());
  EXPECT_EQ(run.world.node_groups, (std::map<std::string, std::string>{{"ng", "1.30 ACTIVE 2"}}));
}

TEST(Upgrader, StuckPodQuarantinesItsNodeAndKeepsTheGroup) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  f.pods.push_back({"agent", "agent", "", "ng-1", false, minutes{1}});
  f.faults.stuck_pods = {"agent"};
  f.eviction_timeout = minutes{20};
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(violations(f, run).empty());
  EXPECT_EQ(run.outcome.quarantined, (std::map<std::string, std::string>{{"ng-1", "eviction_timeout"}}));
  EXPECT_EQ(run.world.pod_groups.at("agent"), "ng");  // never force-deleted
  EXPECT_EQ(run.world.node_groups.at("ng"), "1.30 ACTIVE 2");
  EXPECT_EQ(run.killed_pods, 0);
}

TEST(Upgrader, BudgetThatForbidsEveryEvictionTimesOutIntoQuarantine) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  f.pdbs[0].max_unavailable = 0;
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(violations(f, run).empty());
  EXPECT_TRUE(run.evictions.empty());
  EXPECT_EQ(run.outcome.quarantined.size(), 2u);
  auto quarantine = std::find_if(run.events.begin(), run.events.end(),
                                 [](const UpgradeEvent& e) { return e.action == "quarantine"; });
  auto first_cordon = std::find_if(run.events.begin(), run.events.end(),
                                   [](const UpgradeEvent& e) { return e.action == "cordon"; });
  EXPECT_EQ(quarantine->time - first_cordon->time, f.eviction_timeout);
}

TEST(Upgrader, ThrottledCallsAreRetried) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  f.faults.throttle_percent = 40;
  SimulatedRun run = run_simulated_upgrade(f, 3);
  EXPECT_TRUE(violations(f, run).empty());
  EXPECT_GT(std::count_if(run.events.begin(), run.events.end(),
                          [](const UpgradeEvent& e) { return e.action == "throttled"; }),
            10);
}

TEST(Upgrader, ResumeFindsTheNodeGroupItAlreadyCreated) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  SimulatedRun whole = run_simulated_upgrade(f, 1);
  // The crash point just after CreateNodegroup was sent, before its outcome was recorded.
  for (int64_t k = 1; k <= whole.crash_points; ++k) {
    SimulatedRun crashed = run_simulated_upgrade(f, 1, k);
    auto crash = std::find_if(crashed.events.begin(), crashed.events.end(),
                              [](const UpgradeEvent& e) { return e.action == "crash"; });
    ASSERT_NE(crash, crashed.events.end());
    if (crash == crashed.events.begin() || (crash - 1)->action != "create_node_group") continue;
    EXPECT_EQ(crashed.nodegroups_created, 1);
    EXPECT_EQ(crashed.world, whole.world);
    return;
  }
  FAIL() << "no crash point right after create_node_group";
}

TEST(Upgrader, SecondRunOverAFinishedWorldMakesNoMutatingCall) {
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 24 * 60 - 1));
  f.pods.push_back({"agent", "agent", "", "ng-1", false, minutes{1}});
  f.faults.stuck_pods = {"agent"};  // a kept group and a quarantined node too
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(run.outcome.done);
  EXPECT_EQ(run.rerun_mutating_calls, 0);
}

TEST(Upgrader, EveryWaitEndsAtTheDeadline) {
  // A window too short for the drain: the pods wait until the deadline, then their nodes are quarantined.
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 0, 30));
  f.pods[0].drain = minutes{45};
  f.pods[1].drain = minutes{45};
  f.max_run = std::chrono::days{3};
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_TRUE(violations(f, run).empty());
  EXPECT_TRUE(run.evictions.empty());
  EXPECT_EQ(run.outcome.quarantined, (std::map<std::string, std::string>{{"ng-0", "deadline"}, {"ng-1", "deadline"}}));
  EXPECT_LE(run.finished, f.start + f.max_run + minutes{10});
}

TEST(LowerBound, ControlPlaneReadyThenTheSerialChainInItsWindow) {
  // 1 minor (30 min) + Ready (5 min) = 00:35; the window opens 01:00 for 2 h: 30 + 2 + 30 min of
  // drains, then the group's deletion (5 min) and an addon (2 min).
  Fleet f = small_fleet("2026-12-08T00:00:00Z", daily("UTC", 60, 120));
  EXPECT_EQ(upgrade_lower_bound(f, {}), minutes{60 + 62 + 5 + 2});
  SimulatedRun run = run_simulated_upgrade(f, 1);
  EXPECT_GE(run.finished - f.start, upgrade_lower_bound(f, {}));
}

}  // namespace
}  // namespace byoc::plan::upgrade::testing
