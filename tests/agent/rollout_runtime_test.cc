// Integration tests of version rollouts on the local runtime: a real 1x2
// replicated service (ZooKeeper, two clickhouse-server replicas, nginx)
// moved to another version replica by replica while a client queries it
// through its HTTPS endpoint every 100 ms. Debian has one ClickHouse
// (18.16.1), so the versions list gives the same binary a second name with
// another config revision (the mechanism is what is tested), and a third
// name to a binary that cannot serve (a script that exits at once).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/probes.h"
#include "agent/runtimes/local/rollout_record.h"
#include "base/files.h"
#include "base/process.h"
#include "runtime_harness.h"

namespace byoc::model {
// Readable failures.
void PrintTo(const ReportedRollout& r, std::ostream* os) {
  *os << "{" << r.id << " " << r.state << " " << r.replicas_done << "/" << r.replicas_total << " failed s"
      << r.failed_shard << "r" << r.failed_replica << " '" << r.failed_check << "'}";
}
}  // namespace byoc::model

namespace byoc::agent::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* kCreateEvents =
    "CREATE TABLE events ON CLUSTER orders (id UInt64, v String) "
    "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/events', '{replica}') ORDER BY id";

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Queries the endpoint every 100 ms until stopped; counts answers that are
// not the expected row count.
class PollingClient {
 public:
  PollingClient(std::string endpoint, std::string ca_pem)
      : endpoint_(std::move(endpoint)), ca_pem_(std::move(ca_pem)), thread_([this] { run(); }) {}
  ~PollingClient() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int queries() const { return queries_; }
  int errors() const { return errors_; }
  std::string last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
  }

 private:
  void run() {
    while (!stop_) {
      http::Response r = endpoint_query(endpoint_, ca_pem_, "SELECT count() FROM events", "", 10s);
      ++queries_;
      if (r.status != 200 || r.body != "3\n") {
        ++errors_;
        std::lock_guard lock(mu_);
        last_error_ = std::to_string(r.status) + " " + r.body;
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  std::string endpoint_, ca_pem_;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0}, errors_{0};
  mutable std::mutex mu_;
  std::string last_error_;
  std::thread thread_;
};

class RolloutRuntimeTest : public RuntimeTest {
 protected:
  RolloutRuntimeTest() {
    fs::path broken = dir_.path() / "broken-clickhouse-server";
    files::write_atomic(broken, "#!/bin/sh\nexit 3\n", 0700);
    versions_ = default_versions();
    versions_.clickhouse["18.16.1-r2"] = {"/usr/sbin/clickhouse-server", "", "r2"};
    versions_.clickhouse["18.16.1-broken"] = {broken.string(), "", "broken"};
    // An image-only entry names a version for Kubernetes, not for this runtime.
    versions_.clickhouse["24.3"] = {"", "registry.example/clickhouse-server@sha256:" + std::string(64, 'a'), ""};
    runtime_.reset();  // the harness's own, without these versions
    runtime_ = make_rolling_runtime();
  }

  std::unique_ptr<Runtime> make_rolling_runtime() const {
    LocalRuntimeOptions o = options();
    o.versions = versions_;
    return make_local_runtime(o);
  }

  // A 1x2 service on 18.16.1 with a replicated table of 3 rows.
  ServiceStatus start_service() {
    ServiceStatus status = apply(service_spec("orders", 1, 2));
    EXPECT_EQ(status.state, ServiceState::kReady) << status.reason;
    EXPECT_EQ(query(status, kCreateEvents).status, 200);
    EXPECT_EQ(query(status, "INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'c')").status, 200);
    EXPECT_TRUE(testing::eventually([&] { return rows_on("s1r1") == "3" && rows_on("s1r2") == "3"; }));
    return status;
  }

  ServiceSpec upgrade_spec(const std::string& version, const std::string& id, int64_t not_after) {
    ServiceSpec spec = service_spec("orders", 1, 2);
    spec.clickhouse_version = version;
    spec.rollout = model::RolloutRequest{id, 1, not_after};
    return spec;
  }

  std::string rows_on(const std::string& replica) {
    return first_line(replica_query("orders", replica, "SELECT count() FROM events").body);
  }
  std::string macro_on(const std::string& replica, const std::string& macro) {
    return first_line(
        replica_query("orders", replica, "SELECT substitution FROM system.macros WHERE macro = '" + macro + "'")
            .body);
  }
  std::map<std::string, pid_t> replica_pids() {
    return {{"s1r1", replica_pid("orders", "s1r1").value_or(0)}, {"s1r2", replica_pid("orders", "s1r2").value_or(0)}};
  }

  // Supervises until the rollout reports `state` (and the service `service_state`).
  ServiceStatus supervise_to(const std::string& state, ServiceState service_state,
                             std::chrono::milliseconds timeout = 60s) {
    ServiceStatus status;
    supervise_until(
        [&] {
          status = observe("orders");
          reasons_seen_.insert(status.reason);
          return status.rollout && status.rollout->state == state && status.state == service_state;
        },
        timeout);
    track("orders");
    return status;
  }

  // The endpoint serves (reload confirmed) a config that sends nothing to `replica`.
  bool endpoint_excludes(const std::string& replica) {
    const std::string conf = files::read(service_dir("orders") / "endpoint" / "nginx.conf");
    const std::string server = "server 127.0.0.1:" + std::to_string(replica_http_port("orders", replica)) + " ";
    auto at = conf.find(server);
    if (at == std::string::npos) return false;
    const std::string line = conf.substr(at, conf.find('\n', at) - at);
    auto ports = local::load_ports(service_dir("orders") / "ports.json");
    const std::string served = local::probe_endpoint(ports->https, ca_.cert_pem).revision;
    return line.find(" down") != std::string::npos && !served.empty() &&
           conf.find("return 200 \"" + served + "\";") != std::string::npos;
  }

  VersionList versions_;
  std::set<std::string> reasons_seen_;
};

TEST_F(RolloutRuntimeTest, UpgradesOneReplicaAtATimeWhileTheEndpointServes) {
  ServiceStatus before = start_service();
  auto old_pids = replica_pids();
  EXPECT_EQ(macro_on("s1r1", "byoc_version"), "18.16.1");
  PollingClient client(before.endpoint, ca_.cert_pem);

  ServiceStatus applied = runtime_->apply(upgrade_spec("18.16.1-r2", "up-1", clock_.unix_seconds() + 3600));
  EXPECT_EQ(applied.state, ServiceState::kProvisioning);
  EXPECT_EQ(applied.reason, "rolling");
  // Each replica is out of the endpoint (confirmed) before it is stopped,
  // and the other one is untouched meanwhile.
  for (const auto& [replica, other] : {std::pair{"s1r1", "s1r2"}, std::pair{"s1r2", "s1r1"}}) {
    ASSERT_TRUE(supervise_until([&] { return !proc::is_alive(old_pids[replica]); }, 60s)) << replica;
    EXPECT_TRUE(endpoint_excludes(replica)) << replica;
    EXPECT_FALSE(endpoint_excludes(other)) << other;
    if (std::string(replica) == "s1r1") {
      EXPECT_EQ(replica_pid("orders", "s1r2"), old_pids["s1r2"]);
    }
  }
  ServiceStatus status = supervise_to("done", ServiceState::kReady);
  client.stop();

  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  EXPECT_EQ(status.reason, "");
  ASSERT_TRUE(status.rollout);
  EXPECT_EQ(*status.rollout, (model::ReportedRollout{"up-1", "done", 2, 2, 0, 0, ""}));
  EXPECT_TRUE(reasons_seen_.count("rolling"));
  EXPECT_EQ(client.errors(), 0) << client.last_error();
  EXPECT_GT(client.queries(), 10);
  for (const auto& r : {"s1r1", "s1r2"}) {
    EXPECT_EQ(macro_on(r, "config_revision"), "r2") << r;
    EXPECT_EQ(macro_on(r, "byoc_version"), "18.16.1-r2") << r;
    EXPECT_EQ(rows_on(r), "3") << r;
    EXPECT_NE(replica_pid("orders", r).value_or(0), old_pids[r]) << r << " was restarted";
  }
  // Sent again (the agent restarted, or a reconnect): nothing moves.
  auto new_pids = replica_pids();
  ASSERT_EQ(apply_and_converge(*runtime_, upgrade_spec("18.16.1-r2", "up-1", clock_.unix_seconds() + 3600)).state,
            ServiceState::kReady);
  EXPECT_EQ(replica_pids(), new_pids);
}

TEST_F(RolloutRuntimeTest, TakesNoReplicaOutPastNotAfterAndRollsInTheNextWindow) {
  ServiceStatus before = start_service();
  auto old_pids = replica_pids();
  PollingClient client(before.endpoint, ca_.cert_pem);

  runtime_->apply(upgrade_spec("18.16.1-r2", "up-2", clock_.unix_seconds() - 1));
  ServiceStatus waiting = supervise_to("waiting", ServiceState::kProvisioning, 10s);
  ASSERT_TRUE(waiting.rollout);
  EXPECT_EQ(*waiting.rollout, (model::ReportedRollout{"up-2", "waiting", 0, 2, 0, 0, ""}));
  EXPECT_EQ(waiting.reason, "rollout_waiting");
  // A few more rounds: still nothing moves.
  for (int i = 0; i < 10; ++i) {
    runtime_->supervise();
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(replica_pids(), old_pids);
  EXPECT_EQ(macro_on("s1r1", "byoc_version"), "18.16.1");
  EXPECT_EQ(query(before, "SELECT count() FROM events").body, "3\n");

  // The next window: the same rollout with a later not_after completes.
  runtime_->apply(upgrade_spec("18.16.1-r2", "up-2", clock_.unix_seconds() + 3600));
  ServiceStatus done = supervise_to("done", ServiceState::kReady);
  client.stop();
  ASSERT_EQ(done.state, ServiceState::kReady) << done.reason;
  EXPECT_EQ(done.rollout->replicas_done, 2);
  EXPECT_EQ(macro_on("s1r2", "config_revision"), "r2");
  EXPECT_EQ(client.errors(), 0) << client.last_error();
}

TEST_F(RolloutRuntimeTest, AFailedGatePutsTheReplicaBackOnItsVersionAndStops) {
  ServiceStatus before = start_service();
  auto old_pids = replica_pids();
  PollingClient client(before.endpoint, ca_.cert_pem);

  runtime_->apply(upgrade_spec("18.16.1-broken", "up-3", clock_.unix_seconds() + 3600));
  // READY again once the old version serves again, the failure named.
  ServiceStatus failed = supervise_to("failed", ServiceState::kReady);
  ASSERT_TRUE(failed.rollout);
  EXPECT_EQ(*failed.rollout, (model::ReportedRollout{"up-3", "failed", 0, 2, 1, 1, "start"}));
  EXPECT_EQ(failed.reason, "rollout_failed");
  EXPECT_EQ(macro_on("s1r1", "byoc_version"), "18.16.1");
  EXPECT_EQ(rows_on("s1r1"), "3");
  EXPECT_EQ(replica_pid("orders", "s1r2"), old_pids["s1r2"]) << "the rollout stopped at the first replica";

  // The same request again leaves it failed: no retry loop.
  runtime_->apply(upgrade_spec("18.16.1-broken", "up-3", clock_.unix_seconds() + 3600));
  auto pids = replica_pids();
  for (int i = 0; i < 10; ++i) {
    runtime_->supervise();
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(replica_pids(), pids);
  EXPECT_EQ(observe("orders").rollout->state, "failed");
  client.stop();
  EXPECT_EQ(client.errors(), 0) << client.last_error();
}

TEST_F(RolloutRuntimeTest, AnUnknownVersionIsRefusedAndTouchesNothing) {
  ServiceStatus before = start_service();
  auto old_pids = replica_pids();
  const std::string spec_file = files::read(service_dir("orders") / "spec.json");

  ServiceStatus refused = runtime_->apply(upgrade_spec("99.1", "up-4", 0));
  EXPECT_EQ(refused.state, ServiceState::kFailed);
  EXPECT_EQ(refused.reason, "unsupported_version");
  ASSERT_TRUE(refused.rollout);
  EXPECT_EQ(*refused.rollout, (model::ReportedRollout{"up-4", "failed", 0, 2, 0, 0, "version_unknown"}));
  EXPECT_EQ(runtime_->apply(upgrade_spec("24.3", "up-5", 0)).reason, "unsupported_version");

  for (int i = 0; i < 5; ++i) runtime_->supervise();
  EXPECT_EQ(replica_pids(), old_pids);
  EXPECT_EQ(files::read(service_dir("orders") / "spec.json"), spec_file);
  ServiceStatus still = observe("orders");
  EXPECT_EQ(still.state, ServiceState::kReady);
  ASSERT_TRUE(still.rollout);
  EXPECT_EQ(still.rollout->failed_check, "version_unknown");
  EXPECT_EQ(query(before, "SELECT count() FROM events").body, "3\n");
}

TEST_F(RolloutRuntimeTest, ARuntimeKilledMidStepConvergesOnRestart) {
  ServiceStatus before = start_service();
  auto old_pids = replica_pids();
  PollingClient client(before.endpoint, ca_.cert_pem);

  ServiceSpec spec = upgrade_spec("18.16.1-r2", "up-6", clock_.unix_seconds() + 3600);
  runtime_->apply(spec);
  // The first replica is out of the endpoint and stopped: the agent dies.
  ASSERT_TRUE(supervise_until([&] { return !proc::is_alive(old_pids["s1r1"]); }, 60s));
  auto record = local::load_rollout(service_dir("orders") / "rollout.json");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->step_replica, "s1r1");
  runtime_.reset();

  runtime_ = make_rolling_runtime();
  runtime_->apply(spec);  // as a restarted agent applies its cached desired state
  ServiceStatus done = supervise_to("done", ServiceState::kReady);
  client.stop();
  ASSERT_EQ(done.state, ServiceState::kReady) << done.reason;
  EXPECT_EQ(*done.rollout, (model::ReportedRollout{"up-6", "done", 2, 2, 0, 0, ""}));
  for (const auto& r : {"s1r1", "s1r2"}) {
    EXPECT_EQ(macro_on(r, "config_revision"), "r2") << r;
    EXPECT_EQ(rows_on(r), "3") << r;
    EXPECT_EQ(processes_with("clickhouse-serv",
                             "--config-file=" + (service_dir("orders") / r / "config.xml").string())
                  .size(),
              1u)
        << r;
  }
  EXPECT_EQ(client.errors(), 0) << client.last_error();
}


TEST_F(RolloutRuntimeTest, AResizeRestartsOneReplicaAtATimeWhileTheEndpointServes) {
  ServiceStatus before = start_service();
  auto old_pids = replica_pids();
  auto setting_on = [&](const std::string& replica, const std::string& name) {
    return first_line(
        replica_query("orders", replica, "SELECT value FROM system.settings WHERE name = '" + name + "'").body);
  };
  EXPECT_EQ(setting_on("s1r1", "max_threads"), "1");
  PollingClient client(before.endpoint, ca_.cert_pem);

  ServiceSpec bigger = service_spec("orders", 1, 2);
  bigger.cpu_millis = 2000;
  bigger.memory_mib = 2048;
  ServiceStatus applied = runtime_->apply(bigger);
  EXPECT_EQ(applied.state, ServiceState::kProvisioning);
  EXPECT_EQ(applied.reason, "rolling");
  // The first replica is out and restarted while the second serves untouched.
  ASSERT_TRUE(supervise_until([&] { return !proc::is_alive(old_pids["s1r1"]); }, 60s));
  EXPECT_TRUE(endpoint_excludes("s1r1"));
  EXPECT_EQ(replica_pid("orders", "s1r2"), old_pids["s1r2"]);
  ASSERT_TRUE(supervise_until(
      [&] {
        ServiceStatus s = observe("orders");
        return s.state == ServiceState::kReady && s.reason.empty() &&
               replica_pid("orders", "s1r2").value_or(0) != old_pids["s1r2"];
      },
      60s));
  track("orders");
  client.stop();
  EXPECT_EQ(client.errors(), 0) << client.last_error();
  EXPECT_GT(client.queries(), 10);
  for (const auto& r : {"s1r1", "s1r2"}) {
    EXPECT_EQ(setting_on(r, "max_threads"), "2") << r;
    // 90% of 2 GiB less the mark cache (an eighth): read at start only.
    EXPECT_EQ(setting_on(r, "max_memory_usage"), std::to_string(2048LL * 1048576 * 9 / 10 - 2048LL * 1048576 / 8))
        << r;
    EXPECT_NE(files::read(service_dir("orders") / r / "config.xml").find("<mark_cache_size>268435456<"),
              std::string::npos)
        << r;
    EXPECT_EQ(rows_on(r), "3") << r;
    auto running = local::load_running_version(service_dir("orders") / r / "version.json");
    ASSERT_TRUE(running) << r;
    EXPECT_EQ(running->cpu_millis, 2000) << r;
    EXPECT_EQ(running->memory_mib, 2048) << r;
  }
  // The same size again moves nothing.
  auto pids = replica_pids();
  ASSERT_EQ(apply_and_converge(*runtime_, bigger).state, ServiceState::kReady);
  EXPECT_EQ(replica_pids(), pids);
}


TEST_F(RolloutRuntimeTest, AnAddedReplicaServesOnlyWithItsTablesAndARemovedOneLeavesZooKeeper) {
  ServiceStatus before = start_service();
  // A view over a view named after it: made once what it reads is there.
  ASSERT_EQ(query(before, "CREATE VIEW z_base ON CLUSTER orders AS SELECT id FROM events").status, 200);
  ASSERT_EQ(query(before, "CREATE VIEW a_top ON CLUSTER orders AS SELECT count() AS n FROM z_base").status, 200);
  auto old_pids = replica_pids();
  PollingClient client(before.endpoint, ca_.cert_pem);

  // 1x2 → 1x3: the third starts, gets the table from the others, catches up
  // and only then takes traffic (a query reaching it earlier would fail).
  runtime_->apply(service_spec("orders", 1, 3));
  const fs::path joining = service_dir("orders") / "s1r3" / "joining";
  EXPECT_TRUE(fs::exists(joining));
  // From the moment it is asked for until the third has joined, the service
  // says it is scaling (read here, before a supervision round could finish
  // the join: a small table catches up within one).
  ServiceStatus while_joining = observe("orders");
  EXPECT_EQ(while_joining.state, ServiceState::kProvisioning);
  EXPECT_EQ(while_joining.reason, "scaling");
  ASSERT_TRUE(supervise_until(
      [&] {
        ServiceStatus s = observe("orders");
        return s.state == ServiceState::kReady && s.reason.empty() && !fs::exists(joining);
      },
      60s));
  track("orders");
  EXPECT_EQ(rows_on("s1r3"), "3");
  EXPECT_EQ(first_line(replica_query("orders", "s1r3", "SELECT n FROM a_top").body), "3");
  EXPECT_FALSE(endpoint_excludes("s1r3"));
  EXPECT_EQ(replica_pids(), old_pids) << "the others were not restarted";
  // A replica of the table, registered in ZooKeeper beside the others.
  EXPECT_EQ(first_line(replica_query("orders", "s1r1",
                                     "SELECT count() FROM system.zookeeper "
                                     "WHERE path = '/clickhouse/tables/1/events/replicas'")
                           .body),
            "3");

  // 1x3 → 1x2: the third leaves the endpoint, stops, and its node leaves
  // every replicated table in ZooKeeper; its directory and ports go.
  const auto third = replica_pid("orders", "s1r3").value_or(0);
  ASSERT_GT(third, 0);
  client.stop();
  EXPECT_EQ(client.errors(), 0) << client.last_error();
  EXPECT_GT(client.queries(), 3);
  runtime_->apply(service_spec("orders", 1, 2));
  // Written to the leaving replica alone, just before it goes: not lost.
  ASSERT_EQ(replica_query("orders", "s1r3", "INSERT INTO events VALUES (4, 'd')").status, 200);
  ASSERT_TRUE(supervise_until(
      [&] {
        ServiceStatus s = observe("orders");
        return s.state == ServiceState::kReady && s.reason.empty() && !fs::exists(service_dir("orders") / "s1r3");
      },
      60s));
  EXPECT_FALSE(proc::is_alive(third));
  EXPECT_EQ(first_line(replica_query("orders", "s1r1",
                                     "SELECT count() FROM system.zookeeper "
                                     "WHERE path = '/clickhouse/tables/1/events/replicas' AND name = 's1r3'")
                           .body),
            "0");
  EXPECT_FALSE(local::load_ports(service_dir("orders") / "ports.json")->replicas.count("s1r3"));
  EXPECT_EQ(rows_on("s1r1"), "4");
  EXPECT_EQ(rows_on("s1r2"), "4");
}


TEST_F(RolloutRuntimeTest, AReplicaDroppedInMidStepLeavesAndTheRolloutEndsWithTheOthers) {
  ServiceStatus status = apply(service_spec("orders", 1, 3));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(query(status, kCreateEvents).status, 200);
  ServiceSpec upgrade = service_spec("orders", 1, 3);
  upgrade.clickhouse_version = "18.16.1-r2";
  upgrade.rollout = model::RolloutRequest{"up-7", 1, clock_.unix_seconds() + 3600};
  runtime_->apply(upgrade);
  // The third replica's step is under way: the spec drops it.
  ASSERT_TRUE(supervise_until(
      [&] {
        auto record = local::load_rollout(service_dir("orders") / "rollout.json");
        return record && record->step_replica == "s1r3";
      },
      60s));
  upgrade.replicas = 2;
  runtime_->apply(upgrade);
  ServiceStatus done;
  ASSERT_TRUE(supervise_until(
      [&] {
        done = observe("orders");
        return done.state == ServiceState::kReady && done.reason.empty() && done.rollout &&
               done.rollout->state == "done" && !fs::exists(service_dir("orders") / "s1r3");
      },
      60s))
      << done.reason;
  track("orders");
  EXPECT_EQ(*done.rollout, (model::ReportedRollout{"up-7", "done", 2, 2, 0, 0, ""}));
  for (const auto& r : {"s1r1", "s1r2"}) EXPECT_EQ(macro_on(r, "config_revision"), "r2") << r;
}

}  // namespace
}  // namespace byoc::agent::test
