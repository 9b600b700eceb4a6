// The upgrade controller running an aws environment's Kubernetes upgrade
// against the simulator (a driver whose cluster_upgrade_clients() are the
// simulator's controls), over a real store and the API: a published eks
// version opens it, it runs across many reconciles on a ManualClock — the
// controller and its driver made afresh mid-run, paused and resumed — to
// the world one uninterrupted run reaches; then nothing calls again.
#include <gtest/gtest.h>

#include "api_harness.h"
#include "controllers/upgrade_controller.h"
#include "plan/maintenance_window.h"
#include "plan/upgrade/simulated_run.h"

namespace byoc::server::test {
namespace {

using nlohmann::json;
using namespace plan::upgrade;

// 1.31 (the aws traits' version) to 1.32: two ClickHouse services with
// windows, the system pods; no addons (no published version names theirs).
json fleet_json(bool stuck) {
  json f = json::parse(R"({
    "start": "2026-12-07T20:00:00Z",
    "cluster": {"name": "prod", "version": "1.31", "target_version": "1.32"},
    "node_groups": [
      {"name": "ch-m6i", "version": "1.31", "nodes": 3, "instance_type": "m6i.2xlarge"},
      {"name": "system", "version": "1.31", "nodes": 1, "instance_type": "m6i.large"}
    ],
    "pods": [
      {"name": "orders-0-0", "service": "orders", "shard": 0, "node": "ch-m6i-0", "drain_minutes": 20},
      {"name": "orders-0-1", "service": "orders", "shard": 0, "node": "ch-m6i-1", "drain_minutes": 20},
      {"name": "events-0-0", "service": "events", "shard": 0, "node": "ch-m6i-2", "drain_minutes": 45},
      {"name": "events-0-1", "service": "events", "shard": 0, "node": "ch-m6i-0", "drain_minutes": 45},
      {"name": "coredns-a", "service": "coredns", "node": "system-0", "kind": "system"},
      {"name": "coredns-b", "service": "coredns", "node": "system-0", "kind": "system"}
    ],
    "pdbs": [
      {"name": "orders-0", "service": "orders", "shard": 0, "max_unavailable": 1},
      {"name": "events-0", "service": "events", "shard": 0, "max_unavailable": 1},
      {"name": "coredns", "service": "coredns", "max_unavailable": 1}
    ],
    "windows": {
      "orders": {"time_zone": "America/Los_Angeles",
                 "weekly": [{"days": ["mon", "tue", "wed", "thu"], "start": "22:00", "duration_minutes": 240}]},
      "events": {"time_zone": "Europe/Berlin", "weekly": [{"days": ["tue"], "start": "02:00", "duration_minutes": 180}]}
    },
    "eviction_timeout_minutes": 60
  })");
  if (stuck) f["faults"] = {{"stuck_pods", {"coredns-a"}}};
  return f;
}

// A driver of the aws cloud whose cluster is the simulator.
class SimulatedClusterDriver final : public cloud::CloudDriver {
 public:
  explicit SimulatedClusterDriver(Simulator& world) : world_(world) {}
  bool can_provision() const override { return false; }
  std::vector<std::string> provision_steps() const override { return {}; }
  cloud::Observation observe(const model::Environment&) override { return {}; }
  std::string create(const model::Environment&, const std::string&) override { return ""; }
  void update(const model::Environment&, const std::string&) override {}
  void remove(const model::Environment&, const std::string&) override {}
  std::unique_ptr<cloud::ClusterUpgradeClients> cluster_upgrade_clients(const model::Environment&) override {
    ++clients_made;
    return std::make_unique<Clients>(world_);
  }
  int clients_made = 0;

 private:
  struct Clients final : cloud::ClusterUpgradeClients {
    explicit Clients(Simulator& w) : world(w) {}
    EksControl& eks() override { return world; }
    KubeControl& kube() override { return world; }
    Simulator& world;
  };
  Simulator& world_;
};

class ClusterUpgradeControllerTest : public ::testing::Test {
 protected:
  // The aws environment "prod", READY, its policy on the fast channel with a
  // window; the fleet's ClickHouse services with the fleet's windows.
  void make_environment(const Fleet& fleet) {
    api.store->transact([&](store::Transaction& tx) {
      model::Environment env;
      env.id = "env-00000000000000aa";
      env.name = "prod";
      env.cloud = "aws";
      env.region = "us-east-1";
      env.cidr = "10.0.0.0/16";
      env.zones = {"a"};
      env.state = model::kReady;
      env.maintenance.channel = model::kChannelFast;
      env.maintenance.window = fleet.windows.at("orders");
      env.created_at = env.updated_at = api.clock.unix_seconds();
      tx.environments().put(env);
      for (const auto& [name, window] : fleet.windows) {
        model::Service s;
        s.id = "svc-" + name;
        s.environment_id = env.id;
        s.name = name;
        s.state = model::kReady;
        s.maintenance = model::MaintenancePolicy{window, model::kChannelFast};
        s.created_at = s.updated_at = api.clock.unix_seconds();
        tx.services().put(s);
      }
    });
  }

  json cluster_upgrade() {
    Answer a = api.call("GET", "/v1/environments/prod/upgrades");
    EXPECT_EQ(a.status, 200) << a.body.dump();
    for (const auto& u : a.body["items"])
      if (u["kind"] == "eks") return u;
    return nullptr;
  }

  // Reconciles until the eks upgrade ends (or `most` reconciles), advancing
  // the clock by each requeue; a fresh controller and driver every `restart_every`.
  int drive(Simulator& world, int most, int restart_every, const std::function<void(int)>& at_step = {}) {
    auto driver = std::make_unique<SimulatedClusterDriver>(world);
    auto controller = std::make_unique<controllers::UpgradeController>(
        *api.store, api.clock, std::map<std::string, cloud::CloudDriver*>{{"aws", driver.get()}});
    for (int i = 0; i < most; ++i) {
      if (at_step) at_step(i);
      if (i > 0 && i % restart_every == 0) {  // a restart: nothing carried over but the store and the world
        controller.reset();
        driver = std::make_unique<SimulatedClusterDriver>(world);
        controller = std::make_unique<controllers::UpgradeController>(
            *api.store, api.clock, std::map<std::string, cloud::CloudDriver*>{{"aws", driver.get()}});
      }
      controllers::ReconcileResult r = controller->reconcile("env-00000000000000aa");
      json u = cluster_upgrade();
      if (!u.is_null() && u["state"] != "running" && u["state"] != "pending" && u["state"] != "paused") return i + 1;
      auto wait = r.requeue_after ? *r.requeue_after : std::chrono::milliseconds(60'000);
      api.clock.advance(std::chrono::duration_cast<std::chrono::microseconds>(std::max(wait, std::chrono::milliseconds(1))));
    }
    return most;
  }

  ApiHarness api;
};

TEST_F(ClusterUpgradeControllerTest, APublishedEksVersionUpgradesTheClusterAcrossReconcilesAndRestarts) {
  Fleet fleet = fleet_from_json(fleet_json(false));
  SimulatedRun whole = run_simulated_upgrade(fleet, 1);
  ASSERT_TRUE(whole.outcome.done);

  api.clock.set_unix_seconds(fleet.start.time_since_epoch().count());
  Simulator world(fleet, 1, api.clock);
  make_environment(fleet);
  Answer published = api.call_json("POST", "/v1/versions", {{"kind", "eks"}, {"name", "1.32"}});
  ASSERT_EQ(published.status, 201) << published.body.dump();
  EXPECT_NE(std::find(api.enqueued.begin(), api.enqueued.end(), "upgrades/env-00000000000000aa"), api.enqueued.end());

  int paused_calls = -1;
  int64_t paused_at = 0, deadline = 0;
  std::string id;
  int reconciles = drive(world, 20000, 37, [&](int i) {
    if (i == 1) {
      json u = cluster_upgrade();
      ASSERT_FALSE(u.is_null());
      id = u["id"];
      EXPECT_EQ(u["service"], "");
      EXPECT_EQ(u["from_version"], "1.31");
      EXPECT_EQ(u["to_version"], "1.32");
      EXPECT_EQ(u["state"], "running");
      EXPECT_EQ(u["cluster"]["phase"], "control_plane");
    }
    if (i == 60) {  // paused: the controller sends nothing until it is resumed
      Answer paused = api.call("POST", "/v1/environments/prod/upgrades/" + id + "/pause");
      ASSERT_EQ(paused.status, 200);
      paused_calls = world.mutating_calls();
      paused_at = api.clock.unix_seconds();
      deadline = *parse_rfc3339(paused.body["cluster"]["deadline"].get<std::string>());
    }
    if (i == 70) {
      EXPECT_EQ(world.mutating_calls(), paused_calls);
      Answer resumed = api.call("POST", "/v1/environments/prod/upgrades/" + id + "/resume");
      ASSERT_EQ(resumed.status, 200) << resumed.body.dump();
      EXPECT_EQ(resumed.body["state"], "running");
      // The pause doesn't count against the run's deadline.
      ASSERT_GT(api.clock.unix_seconds(), paused_at);
      EXPECT_EQ(*parse_rfc3339(resumed.body["cluster"]["deadline"].get<std::string>()),
                deadline + (api.clock.unix_seconds() - paused_at));
    }
  });
  EXPECT_LT(reconciles, 20000);
  json u = cluster_upgrade();
  EXPECT_EQ(u["state"], "succeeded") << u.dump();
  EXPECT_EQ(u["cluster"]["phase"], "done");
  EXPECT_GT(u["cluster"]["events"].get<int>(), 10);
  EXPECT_EQ(u["cluster"]["quarantined"], json::array());
  EXPECT_EQ(u["cluster"]["failed_node_groups"], json::array());

  // The uninterrupted run's world: the same node groups, each created once, no budget broken, no pod killed.
  EXPECT_EQ(world.summary(), whole.world);
  EXPECT_EQ(world.nodegroups_created(), whole.nodegroups_created);
  EXPECT_EQ(world.pdb_violations(), 0);
  EXPECT_EQ(world.killed_pods(), 0);
  // Every ClickHouse eviction inside its service's window, with room for its drain.
  for (const EvictionRecord& e : world.evictions()) {
    if (!e.clickhouse) continue;
    plan::WindowState w = plan::window_at(fleet.windows.at(e.service), e.at);
    EXPECT_TRUE(plan::drain_fits(w, e.at, e.drain)) << e.pod << " at " << e.at.time_since_epoch().count();
  }

  // Done: more reconciles, a week on, make no call.
  int calls = world.mutating_calls();
  drive(world, 50, 7);
  api.clock.advance(std::chrono::hours(24 * 7));
  drive(world, 5, 2);
  EXPECT_EQ(world.mutating_calls(), calls);
  EXPECT_EQ(cluster_upgrade()["state"], "succeeded");
}

TEST_F(ClusterUpgradeControllerTest, AStuckPodFailsTheUpgradeWithItsNodeQuarantined) {
  Fleet fleet = fleet_from_json(fleet_json(true));
  api.clock.set_unix_seconds(fleet.start.time_since_epoch().count());
  Simulator world(fleet, 1, api.clock);
  make_environment(fleet);
  ASSERT_EQ(api.call_json("POST", "/v1/versions", {{"kind", "eks"}, {"name", "1.32"}}).status, 201);
  drive(world, 20000, 50);
  json u = cluster_upgrade();
  EXPECT_EQ(u["state"], "failed") << u.dump();
  ASSERT_EQ(u["cluster"]["quarantined"].size(), 1u);
  EXPECT_EQ(u["cluster"]["quarantined"][0]["node"], "system-0");
  EXPECT_EQ(u["failed_step"], nullptr);
  EXPECT_EQ(world.killed_pods(), 0);
}

TEST_F(ClusterUpgradeControllerTest, AnEksVersionMustBeAMinor) {
  Answer bad = api.call_json("POST", "/v1/versions", {{"kind", "eks"}, {"name", "1.32.1"}});
  EXPECT_EQ(bad.status, 422) << bad.body.dump();
}

}  // namespace
}  // namespace byoc::server::test
