// Integration tests of replicated services on the local runtime: real
// ZooKeeper, clickhouse-server replicas and nginx on 127.0.0.1, used as a
// customer would (ON CLUSTER DDL, ReplicatedMergeTree, Distributed tables,
// HTTPS and the native protocol over TLS through the endpoint), with kill -9
// of replicas, ZooKeeper and the runtime itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/proc_table.h"
#include "agent/runtimes/local/zk_client.h"
#include "base/files.h"
#include "base/process.h"
#include "runtime_harness.h"

namespace byoc::agent::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

const char* kCreateEvents =
    "CREATE TABLE events ON CLUSTER orders (id UInt64, v String) "
    "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/events', '{replica}') ORDER BY id";
const char* kCreateEventsAll =
    "CREATE TABLE events_all ON CLUSTER orders AS events ENGINE = Distributed(orders, default, events, id)";

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Listening TCP sockets (address:port, hex as in /proc/net/tcp*) of `pid`.
std::vector<std::string> listening_sockets(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::string target = fs::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::vector<std::string> out;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
      ss >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "0A" && inodes.count(inode)) out.push_back(local);
    }
  }
  return out;
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string hex_port(int port) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04X", port);
  return buffer;
}

class ReplicatedRuntimeTest : public RuntimeTest {
 protected:
  // The 4 replicas of a 2x2 service.
  const std::vector<std::string> replicas_ = {"s1r1", "s1r2", "s2r1", "s2r2"};

  std::string local_count(const std::string& service, const std::string& replica, const std::string& table) {
    return trimmed(replica_query(service, replica, "SELECT count() FROM " + table).body);
  }

  // Every replica of `service` counts `expected` rows in its local `table`.
  bool replicas_hold(const std::string& service, const std::map<std::string, std::string>& expected,
                     const std::string& table = "events") {
    return testing::eventually(
        [&] {
          for (const auto& [replica, count] : expected)
            if (local_count(service, replica, table) != count) return false;
          return true;
        },
        30s);
  }

  std::string nginx_conf(const std::string& service) {
    return files::read(service_dir(service) / "endpoint" / "nginx.conf");
  }

  // The upstream line of a replica's HTTP port in the endpoint's config.
  std::string upstream_line(const std::string& service, const std::string& replica) {
    std::string conf = nginx_conf(service);
    std::string needle = "server 127.0.0.1:" + std::to_string(replica_http_port(service, replica)) + " ";
    auto at = conf.find(needle);
    if (at == std::string::npos) return "";
    return conf.substr(at, conf.find('\n', at) - at);
  }
};

TEST_F(ReplicatedRuntimeTest, TwoByTwoRunsOnClusterDdlReplicationAndDistributedTables) {
  ServiceStatus status = apply(service_spec("orders", 2, 2));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(status.replicas.size(), 4u);
  for (const auto& r : status.replicas)
    EXPECT_EQ(r.state, ReplicaState::kRunning) << r.shard << "/" << r.replica;
  EXPECT_EQ(status.replicas[1].shard, 1);
  EXPECT_EQ(status.replicas[1].replica, 2);
  EXPECT_EQ(status.replicas[2].shard, 2);

  // Every replica listens on 127.0.0.1 with its own ports.
  auto ports = local::load_ports(service_dir("orders") / "ports.json");
  ASSERT_TRUE(ports);
  std::set<int> distinct = local::all_ports(*ports);
  EXPECT_EQ(distinct.size(), 4u * 3 + 3) << "three per replica; the endpoint, its native port and the support gateway";

  // One ZooKeeper, on loopback only (no AdminServer), holding the service's chroot.
  auto zk = zookeeper_pid();
  ASSERT_TRUE(zk);
  EXPECT_THAT(local::process_cmdline(*zk), HasSubstr("-Xmx"));
  // (Java listens on an IPv6 socket: 127.0.0.1 shows up IPv4-mapped.)
  std::vector<std::string> listening = listening_sockets(*zk);
  ASSERT_EQ(listening.size(), 1u);
  EXPECT_THAT(listening[0],
              ::testing::AnyOf("0100007F:" + hex_port(*zookeeper_port()),
                               "0000000000000000FFFF00000100007F:" + hex_port(*zookeeper_port())));
  {
    local::ZooKeeperClient client("127.0.0.1", *zookeeper_port(), 5s);
    EXPECT_TRUE(client.exists("/byoc/orders"));
  }

  ASSERT_EQ(query(status, kCreateEvents).status, 200);
  ASSERT_EQ(query(status, kCreateEventsAll).status, 200);
  // Through the endpoint, into the Distributed table: spread over both shards.
  http::Response insert =
      query(status, "INSERT INTO events_all SELECT number, toString(number) FROM numbers(1000)");
  ASSERT_EQ(insert.status, 200) << insert.body;
  // The INSERT returned once one replica of each shard had its rows
  // (insert_distributed_sync); their siblings catch up asynchronously, so
  // soon every replica, coordinating the read, sees them all.
  EXPECT_TRUE(testing::eventually([&] {
    for (int i = 0; i < 8; ++i)
      if (query(status, "SELECT count(), sum(id) FROM events_all").body != "1000\t499500\n") return false;
    return true;
  }));
  // The endpoint balances over all replicas of all shards.
  std::set<std::string> coordinators;
  for (int i = 0; i < 8; ++i)
    coordinators.insert(
        trimmed(query(status, "SELECT substitution FROM system.macros WHERE macro = 'replica'").body));
  EXPECT_EQ(coordinators, (std::set<std::string>{"s1r1", "s1r2", "s2r1", "s2r2"}));

  // Each shard holds its half, and each replica its shard's rows.
  EXPECT_TRUE(replicas_hold("orders", {{"s1r1", "500"}, {"s1r2", "500"}, {"s2r1", "500"}, {"s2r2", "500"}}))
      << local_count("orders", "s1r1", "events") << " " << local_count("orders", "s1r2", "events") << " "
      << local_count("orders", "s2r1", "events") << " " << local_count("orders", "s2r2", "events");
  // A row written to one replica shows up on its sibling, and only in its shard.
  ASSERT_EQ(replica_query("orders", "s2r2", "INSERT INTO events VALUES (100001, 'direct')").status, 200);
  EXPECT_TRUE(replicas_hold("orders", {{"s2r1", "501"}, {"s2r2", "501"}, {"s1r1", "500"}, {"s1r2", "500"}}));
  EXPECT_EQ(trimmed(replica_query("orders", "s2r1", "SELECT v FROM events WHERE id = 100001").body),
            "direct");
  EXPECT_TRUE(testing::eventually([&] {
    for (int i = 0; i < 4; ++i)
      if (query(status, "SELECT count() FROM events_all").body != "1001\n") return false;
    return true;
  }));

  // The native protocol over TLS reaches the same cluster.
  ASSERT_FALSE(status.native_endpoint.empty());
  int native_port = std::stoi(status.native_endpoint.substr(status.native_endpoint.rfind(':') + 1));
  fs::path ca_file = dir_.path() / "ca.pem";
  files::write_atomic(ca_file, ca_.cert_pem);
  auto [code, out] =
      native_query(dir_.path(), native_port, ca_file, kPassword, "SELECT count() FROM events_all");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "1001\n");
}

TEST_F(ReplicatedRuntimeTest, TheClusterUserIsInternalAndCanNotBeUsedThroughTheEndpoint) {
  ServiceStatus status = apply(service_spec("orders", 2, 1));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  fs::path secret = service_dir("orders") / "cluster.secret";
  std::string password = files::read(secret);
  EXPECT_EQ(password.size(), 64u);
  EXPECT_EQ(mode_of(secret), 0600u);
  std::string config = files::read(service_dir("orders") / "s1r1" / "config.xml");
  EXPECT_THAT(config, HasSubstr("<user>byoc_cluster</user>"));
  EXPECT_THAT(config, HasSubstr("<password>" + password + "</password>"));
  std::string users = files::read(service_dir("orders") / "s1r1" / "users.xml");
  EXPECT_THAT(users, HasSubstr("<byoc_cluster>"));
  EXPECT_THAT(users, Not(HasSubstr(password)));  // only its hash

  // The replicas accept it from 127.0.0.1 (where their siblings connect from)...
  http::Client direct;
  http::Request request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(replica_http_port("orders", "s1r1")) + "/";
  request.body = "SELECT 1";
  request.headers = {{"X-ClickHouse-User", "byoc_cluster"}, {"X-ClickHouse-Key", password}};
  EXPECT_EQ(direct.send(request).body, "1\n");
  // ...but not through the endpoint, even with its password.
  http::Client client(http::TlsOptions{.ca_pem = ca_.cert_pem});
  request.url = status.endpoint + "/";
  http::Response through = client.send(request);
  EXPECT_NE(through.status, 200);
  EXPECT_THAT(through.body, Not(HasSubstr("\n1\n")));
  // The same password survives a new runtime: it is state, not regenerated.
  runtime_ = nullptr;
  runtime_ = make_runtime();
  ASSERT_EQ(apply(service_spec("orders", 2, 1)).state, ServiceState::kReady);
  EXPECT_EQ(files::read(secret), password);
}

TEST_F(ReplicatedRuntimeTest, AReplicaKilledWithSigkillComesBackWithItsDataWhileTheEndpointServes) {
  ServiceStatus status = apply(service_spec("orders", 2, 2));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(query(status, kCreateEvents).status, 200);
  ASSERT_EQ(query(status, kCreateEventsAll).status, 200);
  ASSERT_EQ(query(status, "INSERT INTO events_all SELECT number, 'x' FROM numbers(1000)").status, 200);
  ASSERT_TRUE(replicas_hold("orders", {{"s1r1", "500"}, {"s1r2", "500"}}));

  auto victim = replica_pid("orders", "s1r1");
  ASSERT_TRUE(victim);
  ASSERT_EQ(::kill(*victim, SIGKILL), 0);
  // The endpoint stops sending to it as soon as the runtime sees it gone...
  bool marked_down = false, saw_restarting = false;
  ASSERT_TRUE(supervise_until([&] {
    ServiceStatus s = observe("orders");
    if (s.replicas[0].state == ReplicaState::kRestarting) saw_restarting = true;
    if (upstream_line("orders", "s1r1").ends_with(" down;")) marked_down = true;
    auto now = replica_pid("orders", "s1r1");
    return now && *now != *victim && s.state == ServiceState::kReady;
  }));
  track("orders");
  EXPECT_TRUE(saw_restarting);
  EXPECT_TRUE(marked_down);
  // ...and back once it answers again.
  EXPECT_THAT(upstream_line("orders", "s1r1"), Not(HasSubstr("down")));
  EXPECT_EQ(observe("orders").endpoint, status.endpoint);

  // Its rows are still there, and it replicates again (both ways).
  EXPECT_EQ(local_count("orders", "s1r1", "events"), "500");
  ASSERT_EQ(replica_query("orders", "s1r1", "INSERT INTO events VALUES (5000, 'after')").status, 200);
  EXPECT_TRUE(replicas_hold("orders", {{"s1r1", "501"}, {"s1r2", "501"}}));
  ASSERT_EQ(replica_query("orders", "s1r2", "INSERT INTO events VALUES (5002, 'sibling')").status, 200);
  EXPECT_TRUE(replicas_hold("orders", {{"s1r1", "502"}, {"s1r2", "502"}}));
  EXPECT_TRUE(
      testing::eventually([&] { return query(status, "SELECT count() FROM events_all").body == "1002\n"; }));
  // Exactly one process per replica.
  for (const auto& r : replicas_)
    EXPECT_EQ(processes_with("clickhouse-serv",
                             "--config-file=" + (service_dir("orders") / r / "config.xml").string())
                  .size(),
              1u)
        << r;
}

TEST_F(ReplicatedRuntimeTest, ZooKeeperKilledWithSigkillIsRestartedAndReplicationResumes) {
  ServiceStatus status = apply(service_spec("orders", 1, 2));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(
      query(status,
            "CREATE TABLE events ON CLUSTER orders (id UInt64) "
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/events', '{replica}') ORDER BY id")
          .status,
      200);
  ASSERT_EQ(query(status, "INSERT INTO events SELECT number FROM numbers(10)").status, 200);
  auto zk = zookeeper_pid();
  auto replica = replica_pid("orders", "s1r1");
  ASSERT_TRUE(zk && replica);
  ASSERT_EQ(::kill(*zk, SIGKILL), 0);
  ASSERT_TRUE(supervise_until([&] {
    auto now = zookeeper_pid();
    return now && *now != *zk && observe("orders").state == ServiceState::kReady;
  }));
  track("orders");
  // The replicas rode it out (ClickHouse reconnects by itself) and write again.
  EXPECT_EQ(replica_pid("orders", "s1r1"), replica);
  EXPECT_TRUE(testing::eventually(
      [&] { return query(status, "INSERT INTO events VALUES (100)").status == 200; }, 60s));
  EXPECT_TRUE(replicas_hold("orders", {{"s1r1", "11"}, {"s1r2", "11"}}));
}

TEST_F(ReplicatedRuntimeTest, AllowlistChangesReloadWithoutRestartsOrDroppingInFlightQueries) {
  const std::string outsider = "127.0.0.9";
  ServiceSpec spec = service_spec("orders", 1, 2);
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  int native_port = std::stoi(status.native_endpoint.substr(status.native_endpoint.rfind(':') + 1));
  std::map<std::string, pid_t> before = {{"s1r1", *replica_pid("orders", "s1r1")},
                                         {"s1r2", *replica_pid("orders", "s1r2")},
                                         {"zookeeper", *zookeeper_pid()},
                                         {"endpoint", *endpoint_pid("orders")}};
  auto pids_now = [&] {
    return std::map<std::string, pid_t>{{"s1r1", replica_pid("orders", "s1r1").value_or(0)},
                                        {"s1r2", replica_pid("orders", "s1r2").value_or(0)},
                                        {"zookeeper", zookeeper_pid().value_or(0)},
                                        {"endpoint", endpoint_pid("orders").value_or(0)}};
  };

  // Default: loopback 127.0.0.1 only. The outsider is refused, on both ports.
  EXPECT_EQ(query(status, "SELECT 1", outsider).status, 403);
  EXPECT_FALSE(tls_handshake(native_port, ca_.cert_pem, outsider));

  spec.allowed_ips = {outsider + "/32", "127.0.0.1/32"};
  ASSERT_EQ(apply(spec).state, ServiceState::kReady);
  EXPECT_EQ(query(status, "SELECT 1", outsider).body, "1\n");
  EXPECT_TRUE(tls_handshake(native_port, ca_.cert_pem, outsider));

  // A query in flight while the outsider's address is taken off the list
  // completes: the reload lets old workers finish what they serve.
  std::atomic<bool> started{false};
  http::Response in_flight;
  std::thread long_query([&] {
    started = true;
    in_flight = endpoint_query(status.endpoint, ca_.cert_pem, "SELECT sleep(2) + 1", outsider, 30s);
  });
  ASSERT_TRUE(testing::eventually(
      [&] {
        return started && trimmed(query(status,
                                        "SELECT count() FROM system.processes WHERE query LIKE '%sleep(2)%' "
                                        "AND query NOT LIKE '%system.processes%'")
                                      .body) != "0";
      },
      10s));
  spec.allowed_ips = {"127.0.0.1/32"};
  ServiceStatus restricted = apply(spec);
  long_query.join();
  ASSERT_EQ(restricted.state, ServiceState::kReady);
  EXPECT_EQ(in_flight.status, 200) << in_flight.body;
  EXPECT_EQ(in_flight.body, "1\n");
  http::Response refused = query(status, "SELECT 1", outsider);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, Not(HasSubstr("1\n")));
  EXPECT_FALSE(tls_handshake(native_port, ca_.cert_pem, outsider));

  // Restored: answers again. Nothing was restarted on the way.
  spec.allowed_ips = {outsider + "/32"};
  ASSERT_EQ(apply(spec).state, ServiceState::kReady);
  EXPECT_EQ(query(status, "SELECT 1", outsider).body, "1\n");
  EXPECT_EQ(pids_now(), before);
}

TEST_F(ReplicatedRuntimeTest, ANewRuntimeAdoptsEveryProcessEvenOnesWithoutAPidFile) {
  ServiceSpec spec = service_spec("orders", 2, 2);
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(query(status, kCreateEvents).status, 200);
  auto pids = [&] {
    std::map<std::string, pid_t> out;
    for (const auto& r : replicas_) out[r] = replica_pid("orders", r).value_or(0);
    out["endpoint"] = endpoint_pid("orders").value_or(0);
    out["zookeeper"] = zookeeper_pid().value_or(0);
    return out;
  };
  auto before = pids();

  // The agent dies (kill -9: its runtime object simply goes away), having
  // started a replica and ZooKeeper without writing their pid files.
  runtime_.reset();
  fs::remove(service_dir("orders") / "s2r1" / "clickhouse-server.pid");
  fs::remove(zookeeper_dir() / "zookeeper.pid");
  runtime_ = make_runtime();
  ServiceStatus adopted = apply(spec);
  ASSERT_EQ(adopted.state, ServiceState::kReady) << adopted.reason;
  EXPECT_EQ(pids(), before);
  for (const auto& r : replicas_)
    EXPECT_EQ(processes_with("clickhouse-serv",
                             "--config-file=" + (service_dir("orders") / r / "config.xml").string())
                  .size(),
              1u)
        << r;
  EXPECT_EQ(processes_with("java", (zookeeper_dir() / "conf" / "zoo.cfg").string()).size(), 1u);
  EXPECT_EQ(query(adopted, "SELECT count() FROM system.replicas WHERE table = 'events'").body, "1\n");

  // Adopted processes are supervised like our own children.
  ASSERT_EQ(::kill(before["s2r1"], SIGKILL), 0);
  ASSERT_TRUE(supervise_until([&] {
    auto now = replica_pid("orders", "s2r1");
    return now && *now != before["s2r1"] && observe("orders").state == ServiceState::kReady;
  }));
  track("orders");
}

TEST_F(ReplicatedRuntimeTest, StopsEndpointThenReplicasThenZooKeeperAndComesBackWithItsData) {
  ServiceSpec spec = service_spec("orders", 2, 2);
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(query(status, kCreateEvents).status, 200);
  ASSERT_EQ(query(status, kCreateEventsAll).status, 200);
  ASSERT_EQ(query(status, "INSERT INTO events_all SELECT number, 'x' FROM numbers(100)").status, 200);

  std::map<std::string, pid_t> watched;
  for (const auto& r : replicas_) watched[r] = *replica_pid("orders", r);
  watched["endpoint"] = *endpoint_pid("orders");
  watched["zookeeper"] = *zookeeper_pid();
  // Records when each process is first seen gone.
  std::map<std::string, std::chrono::steady_clock::time_point> gone_at;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    // One more look after stop_all() returns: the last process may go
    // between the watcher's looks and the return.
    for (bool last = false; !last;) {
      last = done;
      for (const auto& [name, pid] : watched)
        if (!gone_at.count(name) && !proc::is_alive(pid)) gone_at[name] = std::chrono::steady_clock::now();
      if (!last) std::this_thread::sleep_for(1ms);
    }
  });
  auto started = std::chrono::steady_clock::now();
  runtime_->stop_all();
  auto took = std::chrono::steady_clock::now() - started;
  done = true;
  watcher.join();
  ASSERT_EQ(gone_at.size(), watched.size());
  for (const auto& r : replicas_) {
    EXPECT_LE(gone_at["endpoint"], gone_at[r]) << r;
    EXPECT_LE(gone_at[r], gone_at["zookeeper"]) << r;
  }
  EXPECT_LT(took, 40s);
  EXPECT_TRUE(processes_under(dir_.path()).empty());
  ServiceStatus stopped = observe("orders");
  EXPECT_EQ(stopped.reason, "stopped");
  for (const auto& r : stopped.replicas) EXPECT_EQ(r.state, ReplicaState::kStopped);

  ServiceStatus again = apply(spec);
  ASSERT_EQ(again.state, ServiceState::kReady) << again.reason;
  EXPECT_EQ(again.endpoint, status.endpoint);
  // Whatever a sibling had not copied before the stop, it copies after it.
  EXPECT_TRUE(replicas_hold("orders", {{"s1r1", "50"}, {"s1r2", "50"}, {"s2r1", "50"}, {"s2r2", "50"}}));
  EXPECT_EQ(query(again, "SELECT count() FROM events_all").body, "100\n");
  EXPECT_EQ(query(again, "INSERT INTO events_all VALUES (1000, 'y')").status, 200);
  EXPECT_TRUE(replicas_hold("orders", {{"s1r1", "51"}, {"s1r2", "51"}}));
}

TEST_F(ReplicatedRuntimeTest, ZooKeeperRunsWhileAReplicatedServiceExistsAndEachHasItsOwnChroot) {
  // A single replica needs no ZooKeeper.
  ServiceStatus single = apply(service_spec("solo"));
  ASSERT_EQ(single.state, ServiceState::kReady) << single.reason;
  EXPECT_FALSE(fs::exists(zookeeper_dir()));

  ServiceStatus a = apply(service_spec("alpha", 1, 2));
  ServiceStatus b = apply(service_spec("beta", 2, 1));
  ASSERT_EQ(a.state, ServiceState::kReady) << a.reason;
  ASSERT_EQ(b.state, ServiceState::kReady) << b.reason;
  auto zk = zookeeper_pid();
  ASSERT_TRUE(zk);
  EXPECT_EQ(processes_with("java", (zookeeper_dir() / "conf" / "zoo.cfg").string()).size(), 1u);
  // The same table path in two services: each lives in its own chroot.
  for (const auto& [name, status] : {std::pair{"alpha", a}, std::pair{"beta", b}}) {
    std::string create =
        "CREATE TABLE t ON CLUSTER " + std::string(name) +
        " (x UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/t', '{replica}') ORDER BY x";
    if (std::string(name) == "beta")  // two shards: one table path per shard
      create =
          "CREATE TABLE t ON CLUSTER beta (x UInt8) "
          "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/t', '{replica}') ORDER BY x";
    http::Response created = query(status, create);
    EXPECT_EQ(created.status, 200) << name << ": " << created.body;
  }
  {
    local::ZooKeeperClient client("127.0.0.1", *zookeeper_port(), 5s);
    EXPECT_TRUE(client.exists("/byoc/alpha/clickhouse/tables/t"));
    EXPECT_TRUE(client.exists("/byoc/beta/clickhouse/tables/1/t"));
  }

  runtime_->remove("alpha");
  EXPECT_EQ(zookeeper_pid(), zk);
  EXPECT_TRUE(proc::is_alive(*zk));
  {
    local::ZooKeeperClient client("127.0.0.1", *zookeeper_port(), 5s);
    EXPECT_FALSE(client.exists("/byoc/alpha"));
    EXPECT_TRUE(client.exists("/byoc/beta"));
  }
  EXPECT_EQ(query(b, "INSERT INTO t VALUES (1)").status, 200);

  // A new service of a removed one's name starts from an empty chroot.
  ServiceStatus again = apply(service_spec("alpha", 1, 2));
  ASSERT_EQ(again.state, ServiceState::kReady) << again.reason;
  http::Response recreated =
      query(again,
            "CREATE TABLE t ON CLUSTER alpha (x UInt8) "
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/t', '{replica}') ORDER BY x");
  EXPECT_EQ(recreated.status, 200) << recreated.body;

  runtime_->remove("alpha");
  runtime_->remove("beta");
  EXPECT_TRUE(proc::wait_gone(*zk, 5s));
  EXPECT_FALSE(fs::exists(zookeeper_dir()));
  EXPECT_EQ(observe("solo").state, ServiceState::kReady);
}

// Replicas may change (rollout_runtime_test.cc): shards, and whether the
// service is replicated at all, may not.
TEST_F(ReplicatedRuntimeTest, RefusesToChangeTheShardsOrTheReplicationOfAnExistingService) {
  ServiceSpec spec = service_spec("orders", 1, 2);
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto replica = replica_pid("orders", "s1r1");
  for (auto [shards, replicas] : {std::pair{2, 2}, std::pair{2, 1}, std::pair{1, 1}}) {
    ServiceSpec changed = service_spec("orders", shards, replicas);
    ServiceStatus refused = runtime_->apply(changed);
    EXPECT_EQ(refused.state, ServiceState::kFailed);
    EXPECT_EQ(refused.reason, "unsupported_topology");
  }
  EXPECT_FALSE(fs::exists(service_dir("orders") / "s2r1"));
  EXPECT_EQ(replica_pid("orders", "s1r1"), replica);
  ServiceStatus still = observe("orders");
  EXPECT_EQ(still.state, ServiceState::kReady);
  EXPECT_EQ(still.replicas.size(), 2u);
}

}  // namespace
}  // namespace byoc::agent::test
