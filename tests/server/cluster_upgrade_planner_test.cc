// The upgrade controller's decisions for an environment's Kubernetes cluster
// (controllers/cluster_upgrade_planner.h), pure: opening, the channel, the
// deferral, a start, a pause, superseding, and clouds without a cluster.
#include "controllers/cluster_upgrade_planner.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "plan/maintenance_window_json.h"
#include "planner_steps.h"

namespace byoc::controllers {
namespace {

using nlohmann::json;

constexpr int64_t kDay = 86400;

int64_t at(const std::string& rfc3339) { return parse_iso8601(rfc3339)->seconds; }

// One aws environment, READY, its policy a Tuesday window on the regular channel; the plan folded back
// into it at every step, as the controller's transaction does.
struct ClusterPlanner {
  ClusterPlanner() {
    world.environment.id = "env-1";
    world.environment.organization = "acme";
    world.environment.cloud = "aws";
    world.environment.state = model::kReady;
    world.environment.maintenance.window = plan::maintenance_window_from_json(json::parse(
        R"({"time_zone":"America/Los_Angeles","weekly":[{"days":["tue"],"start":"01:00","duration_minutes":60}]})"));
    world.environment.maintenance.channel = model::kChannelRegular;
  }

  void publish(const std::string& name, const std::string& when) {
    world.cluster_versions.push_back({model::kVersionEks, name, at(when), "admin", at(when)});
  }

  UpgradePlan step(int64_t now) { return test::plan_and_fold(world, now, ids); }

  std::vector<model::Upgrade> open() const {
    std::vector<model::Upgrade> out;
    for (const auto& u : world.upgrades)
      if (u.open()) out.push_back(u);
    return out;
  }

  UpgradeWorld world;
  int ids = 0;
};

TEST(ClusterPlanner, ANewerMinorOpensOneUpgradeOfTheClusterThatWaitsForTheEnvironmentsChannel) {
  ClusterPlanner t;
  t.publish("1.32", "2026-12-01T00:00:00Z");
  UpgradePlan p = t.step(at("2026-12-02T00:00:00Z"));
  ASSERT_EQ(t.open().size(), 1u);
  model::Upgrade u = t.open()[0];
  EXPECT_EQ(u.kind, model::kVersionEks);
  EXPECT_EQ(u.service_name, "");
  EXPECT_EQ(u.from_version, "1.31");  // the aws traits' version: nothing has upgraded it
  EXPECT_EQ(u.to_version, "1.32");
  EXPECT_EQ(u.state, model::kUpgradePending);
  EXPECT_EQ(u.waiting_for, "channel");
  EXPECT_EQ(u.available_at, at("2026-12-01T00:00:00Z") + 14 * kDay);  // regular
  EXPECT_EQ(p.next_look, u.available_at);
  EXPECT_TRUE(p.any_open);
  EXPECT_EQ(cluster_earliest_start(u, t.world.environment, t.world.now), u.available_at);

  // Nothing changes twice.
  EXPECT_TRUE(t.step(at("2026-12-03T00:00:00Z")).upgrades.empty());

  // The channel's day: it runs at once — no window is waited for to start — with its deadline fixed.
  t.step(u.available_at);
  u = t.open()[0];
  EXPECT_EQ(u.state, model::kUpgradeRunning);
  EXPECT_EQ(u.waiting_for, "");
  EXPECT_EQ(u.cluster.deadline, u.available_at + 28 * kDay);
  // Running: the controller's run moves it on, not the planner.
  EXPECT_TRUE(t.step(u.available_at + 3600).upgrades.empty());
}

TEST(ClusterPlanner, TheChannelIsTheEnvironmentsAndFollowsItsPolicyNow) {
  ClusterPlanner t;
  t.world.environment.maintenance.channel = model::kChannelFast;
  t.publish("1.32", "2026-12-01T00:00:00Z");
  t.step(at("2026-12-01T00:00:00Z"));
  EXPECT_EQ(t.open()[0].state, model::kUpgradeRunning);

  ClusterPlanner slow;
  slow.world.environment.maintenance.channel = model::kChannelSlow;
  slow.publish("1.32", "2026-12-01T00:00:00Z");
  slow.step(at("2026-12-02T00:00:00Z"));
  EXPECT_EQ(slow.open()[0].available_at, at("2026-12-01T00:00:00Z") + 28 * kDay);
  slow.world.environment.maintenance.channel = model::kChannelRegular;
  slow.step(at("2026-12-03T00:00:00Z"));
  EXPECT_EQ(slow.open()[0].available_at, at("2026-12-01T00:00:00Z") + 14 * kDay);
}

TEST(ClusterPlanner, ADeferralAndAStart) {
  ClusterPlanner t;
  t.publish("1.32", "2026-12-01T00:00:00Z");
  t.step(at("2026-12-02T00:00:00Z"));
  // Deferred (as the route does it) by 7 days past its channel's day.
  t.world.upgrades[0].deferred_until = t.world.upgrades[0].available_at + 7 * kDay;
  t.step(t.world.upgrades[0].available_at + 1);
  EXPECT_EQ(t.open()[0].state, model::kUpgradePending);
  EXPECT_EQ(t.open()[0].waiting_for, "deferral");
  EXPECT_EQ(cluster_earliest_start(t.open()[0], t.world.environment, t.world.now), t.world.upgrades[0].deferred_until);
  // A start skips the channel's day, not the deferral.
  t.world.upgrades[0].started = true;
  t.step(t.world.upgrades[0].deferred_until - 1);
  EXPECT_EQ(t.open()[0].waiting_for, "deferral");
  t.step(t.world.upgrades[0].deferred_until);
  EXPECT_EQ(t.open()[0].state, model::kUpgradeRunning);

  ClusterPlanner started;
  started.publish("1.32", "2026-12-01T00:00:00Z");
  started.step(at("2026-12-02T00:00:00Z"));
  started.world.upgrades[0].started = true;
  started.step(at("2026-12-02T00:00:01Z"));
  EXPECT_EQ(started.open()[0].state, model::kUpgradeRunning);
}

TEST(ClusterPlanner, WaitsForTheEnvironmentAndWithoutAWindowForAStart) {
  ClusterPlanner t;
  t.world.environment.state = model::kPending;
  t.world.environment.maintenance.channel = model::kChannelFast;
  t.publish("1.32", "2026-12-01T00:00:00Z");
  t.step(at("2026-12-01T00:00:00Z"));
  EXPECT_EQ(t.open()[0].waiting_for, "environment");
  EXPECT_EQ(cluster_earliest_start(t.open()[0], t.world.environment, t.world.now), 0);
  t.world.environment.state = model::kReady;
  t.world.environment.maintenance.window.reset();
  t.step(at("2026-12-01T00:01:00Z"));
  EXPECT_EQ(t.open()[0].waiting_for, "start");
  t.world.upgrades[0].started = true;
  t.step(at("2026-12-01T00:02:00Z"));
  EXPECT_EQ(t.open()[0].state, model::kUpgradeRunning);
}

TEST(ClusterPlanner, APausedUpgradeStaysPausedAndANewerVersionSupersedesItUntilItBegins) {
  ClusterPlanner t;
  t.publish("1.32", "2026-12-01T00:00:00Z");
  t.step(at("2026-12-02T00:00:00Z"));
  t.world.upgrades[0].state = model::kUpgradePaused;
  t.world.upgrades[0].deferred_until = at("2026-12-20T00:00:00Z");
  t.step(at("2026-12-30T00:00:00Z"));
  EXPECT_EQ(t.open()[0].state, model::kUpgradePaused);  // past its channel's day: a pause holds it

  t.publish("1.33", "2026-12-31T00:00:00Z");
  t.step(at("2026-12-31T00:00:00Z"));
  ASSERT_EQ(t.open().size(), 1u);
  EXPECT_EQ(t.world.upgrades[0].state, model::kUpgradeSuperseded);
  EXPECT_EQ(t.open()[0].to_version, "1.33");
  EXPECT_EQ(t.open()[0].state, model::kUpgradePaused);  // the customer's pause and deferral carry over
  EXPECT_EQ(t.open()[0].deferred_until, at("2026-12-20T00:00:00Z"));

  // Once its upgrader has recorded a step, a paused one is not superseded.
  t.world.upgrades[1].cluster.journal = R"({"run_id":"upg-2"})";
  EXPECT_TRUE(cluster_upgrade_begun(t.world.upgrades[1]));
  t.publish("1.34", "2027-01-10T00:00:00Z");
  t.step(at("2027-01-10T00:00:00Z"));
  ASSERT_EQ(t.open().size(), 1u);
  EXPECT_EQ(t.open()[0].to_version, "1.33");
}

TEST(ClusterPlanner, TheClusterRunsWhatTheLastSucceededUpgradeReached) {
  ClusterPlanner t;
  t.world.environment.maintenance.channel = model::kChannelFast;
  t.publish("1.32", "2026-12-01T00:00:00Z");
  t.step(at("2026-12-01T00:00:00Z"));
  t.world.upgrades[0].state = model::kUpgradeSucceeded;
  t.world.upgrades[0].finished_at = at("2026-12-02T00:00:00Z");
  EXPECT_EQ(cluster_version(t.world.environment, t.world.upgrades), "1.32");
  EXPECT_TRUE(t.step(at("2026-12-03T00:00:00Z")).upgrades.empty());  // nothing newer
  // An older or equal minor published later opens nothing.
  t.publish("1.30", "2026-12-04T00:00:00Z");
  t.step(at("2026-12-04T00:00:00Z"));
  EXPECT_TRUE(t.open().empty());
  t.publish("1.33", "2026-12-05T00:00:00Z");
  t.step(at("2026-12-05T00:00:00Z"));
  ASSERT_EQ(t.open().size(), 1u);
  EXPECT_EQ(t.open()[0].from_version, "1.32");
  // A failed one is not retried: a newer version is.
  t.world.upgrades.back().state = model::kUpgradeFailed;
  t.step(at("2026-12-06T00:00:00Z"));
  EXPECT_TRUE(t.open().empty());
}

TEST(ClusterPlanner, CloudsWithoutAClusterAndEnvironmentsBeingDeleted) {
  ClusterPlanner t;
  t.world.environment.cloud = "external";
  t.publish("1.32", "2026-12-01T00:00:00Z");
  t.step(at("2026-12-20T00:00:00Z"));
  EXPECT_TRUE(t.world.upgrades.empty());

  ClusterPlanner deleting;
  deleting.world.environment.maintenance.channel = model::kChannelFast;
  deleting.publish("1.32", "2026-12-01T00:00:00Z");
  deleting.step(at("2026-12-01T00:00:00Z"));
  deleting.world.environment.state = model::kDeleting;
  deleting.step(at("2026-12-01T01:00:00Z"));
  EXPECT_EQ(deleting.world.upgrades[0].state, model::kUpgradeCancelled);
}

TEST(ClusterPlanner, ServiceUpgradesAndTheClustersAreApart) {
  ClusterPlanner t;
  model::Service s;
  s.id = "svc-1";
  s.environment_id = "env-1";
  s.name = "web";
  s.clickhouse_version = "18.16.1";
  s.state = model::kReady;
  t.world.services = {s};
  t.world.environment.agent_protocol = model::kProtocolVersion;
  t.publish("1.32", "2026-12-01T00:00:00Z");
  t.world.versions = {{"clickhouse", "18.16.1-r2", at("2026-12-01T00:00:00Z"), "admin", 0}};
  t.step(at("2026-12-02T00:00:00Z"));
  ASSERT_EQ(t.open().size(), 2u);
  int eks = 0;
  for (const auto& u : t.open()) eks += u.kind == model::kVersionEks;
  EXPECT_EQ(eks, 1);
  // The cluster's upgrade (service "") is not taken for one of a service that went.
  EXPECT_TRUE(t.step(at("2026-12-02T00:01:00Z")).upgrades.empty());
}

}  // namespace
}  // namespace byoc::controllers
