// The upgrade controller over a real store, driven through the API: a
// published version opens an upgrade, the window starts it (the agent's
// desired state carries the new version and the rollout), the agent's
// report ends it.
#include "controllers/upgrade_controller.h"

#include <gtest/gtest.h>

#include "api_harness.h"

namespace byoc::server::test {
namespace {

using nlohmann::json;

class UpgradeControllerTest : public ::testing::Test {
 protected:
  UpgradeControllerTest() {
    api.clock.set_unix_seconds(parse_iso8601("2026-12-08T08:00:00Z")->seconds);  // Tuesday, midnight in LA
    EXPECT_EQ(api.call_json("POST", "/v1/environments", {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}})
                  .status,
              202);
    EXPECT_EQ(api.call_json("POST", "/v1/environments/e/services", {{"name", "s"}, {"replicas", 2}}).status, 202);
    EXPECT_EQ(api.call_json("PUT", "/v1/environments/e/maintenance",
                            json::parse(R"({"channel":"fast","window":{"time_zone":"America/Los_Angeles",
                              "weekly":[{"days":["tue"],"start":"01:00","duration_minutes":120}]}})"))
                  .status,
              200);
    api.store->transact([&](store::Transaction& tx) {
      auto env = *tx.environments().by_name("default", "e");
      env_id = env.id;
      env.agent_protocol = model::kProtocolVersion;
      tx.environments().put(env);
      auto svc = *tx.services().by_name(env.id, "s");
      svc.state = model::kReady;
      tx.services().put(svc);
    });
  }

  json upgrades() { return api.call("GET", "/v1/environments/e/upgrades").body["items"]; }
  model::Service service() {
    model::Service s;
    api.store->read([&](store::Transaction& tx) { s = *tx.services().by_name(env_id, "s"); });
    return s;
  }
  int64_t revision() {
    int64_t r = 0;
    api.store->read([&](store::Transaction& tx) { r = tx.environments().by_id(env_id)->revision; });
    return r;
  }

  ApiHarness api;
  std::string env_id;
};

TEST_F(UpgradeControllerTest, APublishedVersionRunsInTheWindowAndEndsWithTheAgentsReport) {
  controllers::UpgradeController controller(*api.store, api.clock);
  ASSERT_EQ(api.call_json("POST", "/v1/versions", {{"kind", "clickhouse"}, {"name", "18.16.1-r2"}}).status, 201);
  EXPECT_NE(std::find(api.enqueued.begin(), api.enqueued.end(), "upgrades/" + env_id), api.enqueued.end());

  auto result = controller.reconcile(env_id);
  json list = upgrades();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["state"], "pending");
  EXPECT_EQ(list[0]["waiting_for"], "window");
  EXPECT_EQ(list[0]["starts_at"], "2026-12-08T09:00:00Z");
  // Looks again when the window opens, or within kUpgradeRecheck.
  ASSERT_TRUE(result.requeue_after);
  EXPECT_EQ(*result.requeue_after, std::chrono::milliseconds(controllers::kUpgradeRecheck));
  api.clock.set_unix_seconds(parse_iso8601("2026-12-08T08:59:00Z")->seconds);
  result = controller.reconcile(env_id);
  EXPECT_EQ(result.requeue_after->count(), 61 * 1000);
  int64_t before = revision();

  api.clock.set_unix_seconds(parse_iso8601("2026-12-08T09:00:01Z")->seconds);
  controller.reconcile(env_id);
  list = upgrades();
  EXPECT_EQ(list[0]["state"], "running");
  EXPECT_EQ(list[0]["running_until"], "2026-12-08T10:54:00Z");  // a step's room before the close
  model::Service svc = service();
  EXPECT_EQ(svc.clickhouse_version, "18.16.1-r2");
  ASSERT_TRUE(svc.rollout);
  EXPECT_EQ(svc.rollout->id, list[0]["id"]);
  EXPECT_EQ(svc.rollout->not_after, parse_iso8601("2026-12-08T10:54:00Z")->seconds);
  EXPECT_EQ(revision(), before + 1);

  // The agent reports the rollout done.
  api.store->transact([&](store::Transaction& tx) {
    auto s = *tx.services().by_name(env_id, "s");
    s.rollout_status = model::ReportedRollout{s.rollout->id, "done", 2, 2, 0, 0, ""};
    tx.services().put(s);
  });
  controller.reconcile(env_id);
  EXPECT_EQ(upgrades()[0]["state"], "succeeded");
  EXPECT_FALSE(service().rollout);
  EXPECT_EQ(revision(), before + 2);
  // Nothing more to do, and a repeat changes nothing.
  controller.reconcile(env_id);
  EXPECT_EQ(revision(), before + 2);
  EXPECT_EQ(upgrades().size(), 1u);
}

TEST_F(UpgradeControllerTest, PausingARunningUpgradeStopsItsAgentAfterTheStepInProgress) {
  controllers::UpgradeController controller(*api.store, api.clock);
  ASSERT_EQ(api.call_json("POST", "/v1/versions", {{"kind", "clickhouse"}, {"name", "18.16.1-r2"}}).status, 201);
  api.clock.set_unix_seconds(parse_iso8601("2026-12-08T09:30:00Z")->seconds);
  controller.reconcile(env_id);
  std::string id = upgrades()[0]["id"];
  int64_t before = revision();
  Answer paused = api.call("POST", "/v1/environments/e/upgrades/" + id + "/pause");
  ASSERT_EQ(paused.status, 200) << paused.body.dump();
  EXPECT_EQ(paused.body["state"], "paused");
  EXPECT_EQ(service().rollout->not_after, api.clock.unix_seconds());
  EXPECT_EQ(revision(), before + 1);
  controller.reconcile(env_id);
  EXPECT_EQ(upgrades()[0]["state"], "paused");  // the controller leaves it be
  Answer resumed = api.call("POST", "/v1/environments/e/upgrades/" + id + "/resume");
  EXPECT_EQ(resumed.body["state"], "running");
  api.clock.set_unix_seconds(api.clock.unix_seconds() + 60);
  controller.reconcile(env_id);
  EXPECT_EQ(service().rollout->not_after, parse_iso8601("2026-12-08T10:54:00Z")->seconds);
}

}  // namespace
}  // namespace byoc::server::test
