// The upgrade controller's decisions (controllers/upgrade_planner.h), pure:
// time is a number here, windows real IANA zones.
#include "controllers/upgrade_planner.h"

#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "plan/maintenance_window_json.h"
#include "planner_steps.h"

namespace byoc::controllers {
namespace {

using nlohmann::json;

constexpr int64_t kDay = 86400;

int64_t at(const std::string& rfc3339) { return parse_iso8601(rfc3339)->seconds; }

// Tuesdays and Thursdays 01:00–05:00 in Los Angeles.
plan::MaintenanceWindow la_window() {
  return plan::maintenance_window_from_json(json::parse(
      R"({"time_zone":"America/Los_Angeles","weekly":[{"days":["tue","thu"],"start":"01:00","duration_minutes":240}]})"));
}

class Planner : public ::testing::Test {
 protected:
  Planner() {
    world.environment.id = "env-1";
    world.environment.organization = "acme";
    world.environment.agent_protocol = model::kProtocolVersion;
    world.environment.maintenance.window = la_window();
    world.environment.maintenance.channel = model::kChannelRegular;
    model::Service s;
    s.id = "svc-1";
    s.environment_id = "env-1";
    s.name = "web";
    s.replicas = 2;
    s.clickhouse_version = "18.16.1";
    s.state = model::kReady;
    world.services = {s};
    world.versions = {{"clickhouse", "18.16.1", at("2026-01-01T00:00:00Z"), "admin", 0},
                      {"clickhouse", "18.16.1-r2", at("2026-11-20T00:00:00Z"), "admin", 0}};
  }

  // Plans at `now` and folds the plan back into the world, as the controller's transaction does.
  UpgradePlan step(int64_t now) { return test::plan_and_fold(world, now, ids); }

  model::Upgrade& upgrade() { return world.upgrades.back(); }
  model::Service& service() { return world.services.front(); }

  void agent_reports(const std::string& state, int done, const std::string& check = "") {
    model::ReportedRollout r{upgrade().id, state, done, 2, 0, 0, check};
    if (state == "failed") r = {upgrade().id, state, done, 2, 1, 2, check};
    service().rollout_status = r;
    service().state = state == "done" ? model::kReady : model::kProvisioning;
    if (state == "failed") service().state = model::kReady;
  }

  UpgradeWorld world;
  int ids = 0;
};

TEST_F(Planner, APublishedVersionOpensAnUpgradeThatWaitsForItsChannelThenItsWindow) {
  UpgradePlan p = step(at("2026-11-21T00:00:00Z"));
  ASSERT_EQ(world.upgrades.size(), 1u);
  EXPECT_EQ(upgrade().state, model::kUpgradePending);
  EXPECT_EQ(upgrade().from_version, "18.16.1");
  EXPECT_EQ(upgrade().to_version, "18.16.1-r2");
  EXPECT_EQ(upgrade().available_at, at("2026-12-04T00:00:00Z"));  // regular: 14 days
  EXPECT_EQ(upgrade().waiting_for, "channel");
  EXPECT_EQ(p.next_look, at("2026-12-04T00:00:00Z"));
  EXPECT_FALSE(p.raise_revision);
  EXPECT_EQ(service().clickhouse_version, "18.16.1");

  // Friday Dec 4: the day has come, the window not: Tuesday Dec 8 01:00 PST is 09:00Z.
  p = step(at("2026-12-04T00:00:01Z"));
  EXPECT_EQ(upgrade().waiting_for, "window");
  EXPECT_EQ(p.next_look, at("2026-12-08T09:00:00Z"));
  EXPECT_TRUE(p.services.empty());

  p = step(at("2026-12-08T09:00:00Z"));
  EXPECT_EQ(upgrade().state, model::kUpgradeRunning);
  // The agent's deadline leaves a step's room before the close.
  EXPECT_EQ(upgrade().running_until, at("2026-12-08T12:54:00Z"));
  EXPECT_TRUE(p.raise_revision);
  EXPECT_EQ(service().clickhouse_version, "18.16.1-r2");
  ASSERT_TRUE(service().rollout);
  EXPECT_EQ(*service().rollout, (model::RolloutRequest{upgrade().id, 1, at("2026-12-08T12:54:00Z")}));

  // Once is enough: the same look again changes nothing.
  p = step(at("2026-12-08T09:00:30Z"));
  EXPECT_TRUE(p.services.empty());
  EXPECT_FALSE(p.raise_revision);

  agent_reports("rolling", 1);
  p = step(at("2026-12-08T09:02:00Z"));
  EXPECT_EQ(upgrade().replicas_done, 1);
  agent_reports("done", 2);
  p = step(at("2026-12-08T09:04:00Z"));
  EXPECT_EQ(upgrade().state, model::kUpgradeSucceeded);
  EXPECT_EQ(upgrade().finished_at, at("2026-12-08T09:04:00Z"));
  EXPECT_FALSE(service().rollout);
  EXPECT_TRUE(p.raise_revision);
  // Nothing newer: nothing more.
  p = step(at("2026-12-10T09:00:00Z"));
  EXPECT_TRUE(p.upgrades.empty());
  EXPECT_EQ(world.upgrades.size(), 1u);
}

TEST_F(Planner, AWindowWithTooLittleLeftIsNotStartedIn) {
  world.environment.maintenance.channel = model::kChannelFast;
  UpgradePlan p = step(at("2026-12-08T12:56:00Z"));  // 4 minutes before the close
  EXPECT_EQ(upgrade().state, model::kUpgradePending);
  EXPECT_EQ(upgrade().waiting_for, "window");
  EXPECT_EQ(p.next_look, at("2026-12-08T13:00:00Z"));
  p = step(at("2026-12-08T13:00:01Z"));
  EXPECT_EQ(p.next_look, at("2026-12-10T09:00:00Z"));  // Thursday's
  step(at("2026-12-08T12:53:59Z"));  // (time moving back is no trick: 6 min 1 s left is room)
  EXPECT_EQ(upgrade().state, model::kUpgradeRunning);
}

TEST_F(Planner, AnOlderAgentOrAServiceNotReadyHoldsItBack) {
  world.environment.maintenance.channel = model::kChannelFast;
  world.environment.agent_protocol = model::kRolloutProtocolVersion - 1;
  step(at("2026-12-08T10:00:00Z"));
  EXPECT_EQ(upgrade().waiting_for, "agent");
  world.environment.agent_protocol = model::kRolloutProtocolVersion;
  service().state = model::kProvisioning;
  step(at("2026-12-08T10:00:10Z"));
  EXPECT_EQ(upgrade().waiting_for, "service");
  service().state = model::kReady;
  step(at("2026-12-08T10:00:20Z"));
  EXPECT_EQ(upgrade().state, model::kUpgradeRunning);
}

TEST_F(Planner, WithoutAWindowItWaitsForAStartThenRunsWithoutADeadline) {
  world.environment.maintenance.window.reset();
  world.environment.maintenance.channel = model::kChannelSlow;
  step(at("2026-11-21T00:00:00Z"));
  EXPECT_EQ(upgrade().available_at, at("2026-12-18T00:00:00Z"));
  EXPECT_EQ(upgrade().waiting_for, "channel");
  upgrade().started = true;  // POST …/start: the channel's day is not waited for
  UpgradePlan p = step(at("2026-11-21T00:01:00Z"));
  EXPECT_EQ(upgrade().state, model::kUpgradeRunning);
  EXPECT_EQ(service().rollout->not_after, 0);
  EXPECT_TRUE(p.raise_revision);
}

TEST_F(Planner, ADeferralHoldsItUntilItsEnd) {
  world.environment.maintenance.channel = model::kChannelFast;
  step(at("2026-12-07T00:00:00Z"));
  upgrade().deferred_until = at("2026-12-14T00:00:00Z");
  UpgradePlan p = step(at("2026-12-08T09:30:00Z"));  // inside a window, but deferred
  EXPECT_EQ(upgrade().state, model::kUpgradePending);
  EXPECT_EQ(upgrade().waiting_for, "deferral");
  EXPECT_EQ(p.next_look, at("2026-12-14T00:00:00Z"));
  step(at("2026-12-15T09:30:00Z"));  // Tuesday after
  EXPECT_EQ(upgrade().state, model::kUpgradeRunning);
}

TEST_F(Planner, AFailedStepPutsTheVersionBackAndTheSameTargetIsNotTriedAgain) {
  world.environment.maintenance.channel = model::kChannelFast;
  step(at("2026-12-08T09:30:00Z"));
  ASSERT_EQ(upgrade().state, model::kUpgradeRunning);
  agent_reports("failed", 1, "replication_queue");
  UpgradePlan p = step(at("2026-12-08T09:40:00Z"));
  EXPECT_EQ(upgrade().state, model::kUpgradeFailed);
  EXPECT_EQ(upgrade().failed_shard, 1);
  EXPECT_EQ(upgrade().failed_replica, 2);
  EXPECT_EQ(upgrade().failed_check, "replication_queue");
  EXPECT_EQ(service().clickhouse_version, "18.16.1");
  // The replica already moved goes back the same way, in the window.
  ASSERT_TRUE(service().rollout);
  EXPECT_EQ(*service().rollout, (model::RolloutRequest{upgrade().id + "-revert", 1, at("2026-12-08T12:54:00Z")}));
  EXPECT_TRUE(p.raise_revision);
  service().rollout_status = model::ReportedRollout{upgrade().id + "-revert", "done", 2, 2, 0, 0, ""};
  p = step(at("2026-12-08T09:50:00Z"));
  EXPECT_FALSE(service().rollout);
  EXPECT_TRUE(p.raise_revision);
  step(at("2026-12-10T09:30:00Z"));
  EXPECT_EQ(world.upgrades.size(), 1u);
  // A newer version is the retry.
  world.versions.push_back({"clickhouse", "18.16.1-r3", at("2026-12-09T00:00:00Z"), "admin", 0});
  step(at("2026-12-10T09:30:00Z"));
  ASSERT_EQ(world.upgrades.size(), 2u);
  EXPECT_EQ(upgrade().to_version, "18.16.1-r3");
  EXPECT_EQ(upgrade().state, model::kUpgradeRunning);
}

TEST_F(Planner, ANewerVersionSupersedesAPendingUpgradeButNotARunningOne) {
  step(at("2026-11-21T00:00:00Z"));
  std::string first = upgrade().id;
  world.versions.push_back({"clickhouse", "18.16.1-r3", at("2026-11-22T00:00:00Z"), "admin", 0});
  step(at("2026-11-22T00:00:01Z"));
  ASSERT_EQ(world.upgrades.size(), 2u);
  EXPECT_EQ(world.upgrades[0].id, first);
  EXPECT_EQ(world.upgrades[0].state, model::kUpgradeSuperseded);
  EXPECT_EQ(upgrade().to_version, "18.16.1-r3");
  EXPECT_EQ(upgrade().available_at, at("2026-12-06T00:00:00Z"));

  step(at("2026-12-08T09:10:00Z"));
  ASSERT_EQ(upgrade().state, model::kUpgradeRunning);
  world.versions.push_back({"clickhouse", "18.16.1-r4", at("2026-12-08T09:11:00Z"), "admin", 0});
  step(at("2026-12-08T09:12:00Z"));
  EXPECT_EQ(world.upgrades.size(), 2u) << "the running one finishes first";
  agent_reports("done", 2);
  step(at("2026-12-08T09:20:00Z"));
  EXPECT_EQ(upgrade().state, model::kUpgradeSucceeded);
  step(at("2026-12-08T09:21:00Z"));
  ASSERT_EQ(world.upgrades.size(), 3u);
  EXPECT_EQ(upgrade().from_version, "18.16.1-r3");
  EXPECT_EQ(upgrade().to_version, "18.16.1-r4");
}

TEST_F(Planner, ARolloutCutByTheCloseGetsTheNextWindowsClose) {
  world.environment.maintenance.channel = model::kChannelFast;
  step(at("2026-12-08T12:30:00Z"));
  ASSERT_EQ(service().rollout->not_after, at("2026-12-08T12:54:00Z"));
  agent_reports("waiting", 1);
  UpgradePlan p = step(at("2026-12-08T13:00:05Z"));
  EXPECT_EQ(upgrade().waiting_for, "window");
  EXPECT_TRUE(p.services.empty()) << "nothing moves outside the window";
  EXPECT_EQ(p.next_look, at("2026-12-10T09:00:00Z"));
  p = step(at("2026-12-10T09:00:01Z"));
  EXPECT_EQ(service().rollout->not_after, at("2026-12-10T12:54:00Z"));
  EXPECT_EQ(upgrade().running_until, at("2026-12-10T12:54:00Z"));
  EXPECT_TRUE(p.raise_revision);
}

TEST_F(Planner, AServicesOwnPolicyWins) {
  model::MaintenancePolicy own;
  own.channel = model::kChannelFast;
  own.window = plan::maintenance_window_from_json(json::parse(
      R"({"time_zone":"Asia/Kolkata","weekly":[{"days":["sun"],"start":"03:00","duration_minutes":60}]})"));
  service().maintenance = own;
  step(at("2026-12-08T09:30:00Z"));  // the environment's window is open; the service's is not
  EXPECT_EQ(upgrade().available_at, at("2026-11-20T00:00:00Z"));
  EXPECT_EQ(upgrade().waiting_for, "window");
  step(at("2026-12-12T21:30:00Z"));  // Sunday 03:00 IST
  EXPECT_EQ(upgrade().state, model::kUpgradeRunning);
  EXPECT_EQ(service().rollout->not_after, at("2026-12-12T22:24:00Z"));
}

TEST_F(Planner, ADeadlineFollowsThePolicyAsItIsNowInBothDirections) {
  // Started with no window: no limit.
  world.environment.maintenance.window.reset();
  world.environment.maintenance.channel = model::kChannelFast;
  step(at("2026-12-07T10:00:00Z"));
  upgrade().started = true;
  step(at("2026-12-07T10:00:10Z"));
  ASSERT_EQ(service().rollout->not_after, 0);
  // The customer adds a window that is closed now: the agent is stopped now.
  world.environment.maintenance.window = la_window();
  UpgradePlan p = step(at("2026-12-07T10:05:00Z"));
  EXPECT_EQ(service().rollout->not_after, at("2026-12-07T10:05:00Z"));
  EXPECT_EQ(upgrade().waiting_for, "window");
  EXPECT_TRUE(p.raise_revision);
  // And it stays there (no new revision at every look) until the window opens.
  p = step(at("2026-12-07T11:00:00Z"));
  EXPECT_FALSE(p.raise_revision);
  EXPECT_EQ(service().rollout->not_after, at("2026-12-07T10:05:00Z"));
  step(at("2026-12-08T09:10:00Z"));
  EXPECT_EQ(service().rollout->not_after, at("2026-12-08T12:54:00Z"));
  // A blackout for today closes it again.
  world.environment.maintenance.window->blackouts = {
      {std::chrono::year{2026} / 12 / 8, std::chrono::year{2026} / 12 / 8}};
  step(at("2026-12-08T09:20:00Z"));
  EXPECT_EQ(service().rollout->not_after, at("2026-12-08T09:20:00Z"));
  // The window removed: a started upgrade runs on without a limit.
  world.environment.maintenance.window.reset();
  step(at("2026-12-08T09:30:00Z"));
  EXPECT_EQ(service().rollout->not_after, 0);
  EXPECT_EQ(upgrade().waiting_for, "");
}

TEST_F(Planner, AnUpgradeOfADeletedServiceIsCancelled) {
  world.environment.maintenance.channel = model::kChannelFast;
  step(at("2026-12-08T09:30:00Z"));
  ASSERT_EQ(upgrade().state, model::kUpgradeRunning);
  service().state = model::kDeleting;
  UpgradePlan p = step(at("2026-12-08T09:31:00Z"));
  EXPECT_EQ(upgrade().state, model::kUpgradeCancelled);
  EXPECT_FALSE(p.any_open);
  world.services.clear();
  p = step(at("2026-12-08T09:32:00Z"));
  EXPECT_TRUE(p.upgrades.empty());
}

TEST_F(Planner, SupersedingKeepsThePauseAndTheDeferralAndTheChannelIsReadAtEachLook) {
  step(at("2026-11-21T00:00:00Z"));
  upgrade().deferred_until = at("2026-12-18T00:00:00Z");
  upgrade().state = model::kUpgradePaused;
  world.versions.push_back({"clickhouse", "18.16.1-r3", at("2026-11-22T00:00:00Z"), "admin", 0});
  step(at("2026-11-22T00:00:01Z"));
  ASSERT_EQ(world.upgrades.size(), 2u);
  EXPECT_EQ(upgrade().state, model::kUpgradePaused);
  EXPECT_EQ(upgrade().deferred_until, at("2026-12-18T00:00:00Z"));
  EXPECT_EQ(upgrade().available_at, at("2026-12-06T00:00:00Z"));
  world.environment.maintenance.channel = model::kChannelSlow;
  step(at("2026-11-22T00:00:02Z"));
  EXPECT_EQ(upgrade().available_at, at("2026-12-20T00:00:00Z"));
}

// Over random looks across two months and windows in zones east and west of
// UTC (their DST changes included): an upgrade starts, and a rollout's
// deadline moves, only inside the service's window with room for a step,
// and no deadline handed to the agent lies past the window's close.
TEST_F(Planner, NothingStartsOrMovesOutsideTheWindow) {
  const char* zones[] = {"America/Los_Angeles", "Europe/Berlin", "Australia/Sydney", "America/St_Johns",
                         "Asia/Kathmandu"};
  const char* days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::mt19937_64 rng(7);
  int started = 0, moved = 0;
  for (int round = 0; round < 40; ++round) {
    world = {};
    world.environment.id = "env-1";
    world.environment.agent_protocol = model::kProtocolVersion;
    world.environment.maintenance.channel = model::kChannelFast;
    // Two days a week, starting in the small hours where clocks change.
    int first = static_cast<int>(rng() % 7);
    int second = (first + 1 + static_cast<int>(rng() % 6)) % 7;
    json w = {{"time_zone", zones[rng() % 5]},
              {"weekly",
               {{{"days", {days[first], days[second]}},
                 {"start", rng() % 2 ? "01:30" : "02:30"},
                 {"duration_minutes", 30 + static_cast<int>(rng() % 120)}}}}};
    plan::MaintenanceWindow window = plan::maintenance_window_from_json(w);
    world.environment.maintenance.window = window;
    model::Service s;
    s.name = "web";
    s.clickhouse_version = "a";
    s.state = model::kReady;
    world.services = {s};
    int64_t t = at("2027-03-01T00:00:00Z") + static_cast<int64_t>(rng() % (20 * kDay));
    world.versions = {{"clickhouse", "b", t - kDay, "admin", 0}};
    for (int look = 0; look < 300; ++look) {
      t += 60 + static_cast<int64_t>(rng() % 7200);
      auto before = world.services.front().rollout;
      UpgradePlan p = step(t);
      auto after = world.services.front().rollout;
      // A deadline that moves later (or a first one) is given only inside
      // the window, with room for a step, and leaves that room before the
      // close; one pulled in never lies ahead of now.
      if (after && (!before || after->not_after > before->not_after)) {
        plan::WindowState s = plan::window_at(window, plan::Instant{std::chrono::seconds{t}});
        ASSERT_TRUE(s.inside) << w.dump() << " at " << format_rfc3339(t);
        ASSERT_TRUE(plan::drain_fits(s, plan::Instant{std::chrono::seconds{t}}, kReplicaStepEstimate));
        ASSERT_EQ(after->not_after, s.closes_at->time_since_epoch().count() - 360);
        (before ? moved : started)++;
      } else if (after && before && after->not_after < before->not_after) {
        ASSERT_LE(after->not_after, t);
      }
      // The agent takes a step now and then, and stops at the deadline.
      if (after && (rng() % 4 == 0)) {
        bool past = after->not_after && t >= after->not_after;
        int done = world.services.front().rollout_status ? world.services.front().rollout_status->replicas_done : 0;
        world.services.front().rollout_status =
            model::ReportedRollout{after->id, past ? "waiting" : "rolling", std::min(done + (past ? 0 : 1), 1), 3, 0, 0, ""};
      }
    }
  }
  EXPECT_GT(started, 20);
  EXPECT_GT(moved, 5);
}


TEST_F(Planner, AResizeKeptForTheWindowIsAppliedWhenItOpensAndRolledUnderItsDeadline) {
  world.versions.resize(1);  // no upgrade in the way
  world.environment.cloud = "local";
  const int64_t asked = at("2026-12-07T10:00:00Z");  // a Monday
  service().pending_resize = model::ServiceResize{"", 1500, 3072, 3, asked};
  UpgradePlan p = step(asked);
  EXPECT_TRUE(p.services.empty());
  EXPECT_EQ(p.next_look, at("2026-12-08T09:00:00Z"));  // Tuesday 01:00 in Los Angeles
  EXPECT_TRUE(p.any_open || service().pending_resize) << "looked at again";
  EXPECT_EQ(service().replicas, 2);

  p = step(at("2026-12-08T09:00:00Z"));
  EXPECT_TRUE(p.raise_revision);
  EXPECT_FALSE(service().pending_resize);
  EXPECT_EQ(service().replicas, 3);
  EXPECT_EQ(service().cpu_millis, 1500);
  EXPECT_EQ(service().memory_mib, 3072);
  ASSERT_TRUE(service().rollout);
  EXPECT_EQ(*service().rollout, (model::RolloutRequest{resize_rollout_id(asked), 1, at("2026-12-08T12:54:00Z")}));
  // Past the close the deadline stays behind: the agent takes no further step.
  step(at("2026-12-08T13:00:01Z"));
  EXPECT_EQ(service().rollout->not_after, at("2026-12-08T12:54:00Z"));
  // Done in Thursday's window: nothing left to ask for.
  step(at("2026-12-10T09:00:00Z"));
  service().rollout_status = model::ReportedRollout{resize_rollout_id(asked), "done", 3, 3, 0, 0, ""};
  p = step(at("2026-12-10T09:10:00Z"));
  EXPECT_FALSE(service().rollout);
  EXPECT_TRUE(p.raise_revision);
}

TEST_F(Planner, AResizeWhosePolicyLostItsWindowIsAppliedAtOnce) {
  world.versions.resize(1);
  world.environment.cloud = "local";
  world.environment.maintenance.window.reset();
  service().pending_resize = model::ServiceResize{"", 1000, 2048, 4, at("2026-12-07T10:00:00Z")};
  UpgradePlan p = step(at("2026-12-07T10:05:00Z"));
  EXPECT_TRUE(p.raise_revision);
  EXPECT_EQ(service().replicas, 4);
  ASSERT_TRUE(service().rollout);
  EXPECT_EQ(service().rollout->not_after, 0);  // no window: no deadline
}

TEST_F(Planner, AResizeDuringARunningUpgradeRidesItsRollout) {
  world.environment.cloud = "local";
  world.environment.maintenance.channel = model::kChannelFast;
  step(at("2026-12-08T09:00:00Z"));
  ASSERT_EQ(upgrade().state, model::kUpgradeRunning);
  service().pending_resize = model::ServiceResize{"", 2000, 2048, 2, at("2026-12-08T09:01:00Z")};
  step(at("2026-12-08T09:01:00Z"));
  EXPECT_EQ(service().cpu_millis, 2000);
  EXPECT_EQ(service().rollout->id, upgrade().id);
}


TEST_F(Planner, AResizeNoLongerPossibleIsDroppedAndAnEndedRolloutGetsReplaced) {
  world.versions.resize(1);
  world.environment.cloud = "aws";
  world.environment.instance_types = {"m7gd.large"};
  world.environment.zones = {"us-east-1a", "us-east-1b"};
  // More than an m7gd.large holds: the environment narrowed since it was asked for.
  service().pending_resize = model::ServiceResize{"", 1000, 60000, 2, at("2026-12-07T10:00:00Z")};
  UpgradePlan p = step(at("2026-12-08T09:00:00Z"));
  EXPECT_FALSE(service().pending_resize);
  EXPECT_EQ(service().memory_mib, 2048);
  EXPECT_FALSE(service().rollout);

  // A rollout whose report says it ended can't carry a new resize.
  world.environment.cloud = "local";
  service().rollout = model::RolloutRequest{"resize-1", 1, 0};
  service().rollout_status = model::ReportedRollout{"resize-1", "done", 2, 2, 0, 0, ""};
  service().pending_resize = model::ServiceResize{"", 1500, 2048, 2, at("2026-12-08T09:05:00Z")};
  step(at("2026-12-08T09:05:00Z"));
  ASSERT_TRUE(service().rollout);
  EXPECT_EQ(service().rollout->id, resize_rollout_id(at("2026-12-08T09:05:00Z")));
  EXPECT_EQ(service().cpu_millis, 1500);
}

TEST_F(Planner, AResizeWithoutAWindowDoesNotWaitForAnUpgradesStart) {
  world.environment.cloud = "local";
  world.environment.maintenance.window.reset();
  step(at("2026-12-10T09:00:00Z"));  // an upgrade, pending until someone starts it
  ASSERT_EQ(upgrade().state, model::kUpgradePending);
  service().pending_resize = model::ServiceResize{"", 2000, 2048, 2, at("2026-12-10T09:01:00Z")};
  step(at("2026-12-10T09:01:00Z"));
  ASSERT_TRUE(service().rollout);
  EXPECT_EQ(service().rollout->id, resize_rollout_id(at("2026-12-10T09:01:00Z")));
  EXPECT_EQ(service().rollout->not_after, 0);
}

}  // namespace
}  // namespace byoc::controllers
