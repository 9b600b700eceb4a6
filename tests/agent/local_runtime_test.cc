// Integration tests of the local runtime: real clickhouse-server and nginx
// processes on 127.0.0.1, queried over HTTPS through the endpoint exactly as a
// customer would (pinned to the environment CA, with the default password).
#include "agent/runtimes/local/local_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/proc_table.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "runtime_harness.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using test::kPassword;
using test::make_environment_ca;
using test::native_query;
using test::service_spec;
using test::tls_handshake;

std::optional<pid_t> pid_in(const fs::path& pid_file) { return proc::read_pid_file(pid_file); }

// A scratch root, an environment CA and a runtime on them. Whatever happens in
// the test, the destructor stops every process the runtime started and
// removes its services (and the TempDir its files).
class LocalRuntimeTest : public ::testing::Test {
 protected:
  LocalRuntimeTest() : ca_(make_environment_ca()) { runtime_ = make_runtime(); }

  ~LocalRuntimeTest() override {
    try {
      if (!runtime_) runtime_ = make_runtime();
      runtime_->stop_all();
      for (const auto& name : runtime_->services()) runtime_->remove(name);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << e.what();
    }
    runtime_.reset();
    // Nothing the runtime started may outlive the test: a process still
    // running from our directory is a failure, and is killed by pid.
    for (pid_t pid : test::processes_under(dir_.path())) {
      ADD_FAILURE() << "left running: " << pid << " " << local::process_cmdline(pid);
      started_pids_.insert(pid);
    }
    for (pid_t pid : started_pids_)
      if (proc::is_alive(pid)) proc::terminate(pid, std::chrono::seconds(5));
  }

  LocalRuntimeOptions options() const {
    LocalRuntimeOptions o;
    o.root = dir_.path() / "runtime";
    o.environment_ca = ca_;
    o.clock = &clock_;
    return o;
  }

  std::unique_ptr<Runtime> make_runtime() { return make_local_runtime(options()); }

  fs::path service_dir(const std::string& name) const { return dir_.path() / "runtime" / name; }
  fs::path clickhouse_pid_file(const std::string& name) const {
    return service_dir(name) / "s1r1" / "clickhouse-server.pid";
  }
  fs::path nginx_pid_file(const std::string& name) const {
    return service_dir(name) / "endpoint" / "nginx.pid";
  }

  // Remembers the service's pids for the last-resort cleanup.
  void track(const std::string& name) {
    if (auto pid = pid_in(clickhouse_pid_file(name))) started_pids_.insert(*pid);
    if (auto pid = pid_in(nginx_pid_file(name))) started_pids_.insert(*pid);
  }

  ServiceStatus apply(const ServiceSpec& spec) {
    ServiceStatus status = test::apply_and_converge(*runtime_, spec);
    track(spec.name);
    return status;
  }

  ServiceStatus observe(const std::string& name) { return test::observed(*runtime_, name); }

  http::Response query(const std::string& endpoint, const std::string& sql,
                       std::optional<std::string> password = kPassword, const std::string& source = "") {
    http::Client client(http::TlsOptions{.ca_pem = ca_.cert_pem});
    http::Request request;
    request.method = "POST";
    request.url = endpoint + "/";
    request.body = sql;
    request.source_address = source;
    request.timeout = std::chrono::seconds(30);
    if (password) {
      request.headers.emplace_back("X-ClickHouse-User", "default");
      request.headers.emplace_back("X-ClickHouse-Key", *password);
    }
    return client.send(request);
  }

  // Calls supervise() as the agent does, until `condition` holds.
  bool supervise_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    return testing::eventually(
        [&] {
          runtime_->supervise();
          return condition();
        },
        timeout);
  }

  testing::TempDir dir_{"byoc-local-runtime"};
  crypto::KeyedCertificate ca_;
  SystemClock clock_;  // real processes run in real time
  std::unique_ptr<Runtime> runtime_;
  std::set<pid_t> started_pids_;
};

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(LocalRuntimeTest, ServesQueriesOverTlsToTheDefaultUserWithItsPasswordOnly) {
  ServiceStatus status = apply(service_spec("orders"));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  EXPECT_EQ(status.reason, "");
  ASSERT_THAT(status.endpoint, HasSubstr("https://127.0.0.1:"));
  ASSERT_EQ(status.replicas.size(), 1u);
  EXPECT_EQ(status.replicas[0].state, ReplicaState::kRunning);
  EXPECT_EQ(status.replicas[0].last_error_code, 0);

  http::Response ok = query(status.endpoint, "SELECT 1");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "1\n");

  http::Response anonymous = query(status.endpoint, "SELECT 1", std::nullopt);
  EXPECT_NE(anonymous.status, 200);
  EXPECT_THAT(anonymous.body, Not(HasSubstr("\n1\n")));
  http::Response wrong = query(status.endpoint, "SELECT 1", "not the password");
  EXPECT_NE(wrong.status, 200);

  // Basic auth passes through too.
  http::Client client(http::TlsOptions{.ca_pem = ca_.cert_pem});
  http::Request basic;
  basic.method = "POST";
  basic.url = status.endpoint + "/";
  basic.body = "SELECT 2";
  basic.headers.emplace_back("Authorization",
                             "Basic " + std::string("ZGVmYXVsdDpjb3JyZWN0IGhvcnNlIGJhdHRlcnkgc3RhcGxl"));
  http::Response basic_ok = client.send(basic);
  EXPECT_EQ(basic_ok.status, 200) << basic_ok.body;
  EXPECT_EQ(basic_ok.body, "2\n");

  // The endpoint's certificate is trusted only through the environment CA.
  crypto::KeyedCertificate other_ca = make_environment_ca();
  http::Client stranger(http::TlsOptions{.ca_pem = other_ca.cert_pem});
  http::Request ping;
  ping.url = status.endpoint + "/ping";
  EXPECT_THROW(stranger.send(ping), Error);
  // ... and names 127.0.0.1 and localhost.
  http::Request by_name;
  by_name.url = "https://localhost:" + status.endpoint.substr(status.endpoint.rfind(':') + 1) + "/ping";
  EXPECT_EQ(client.send(by_name).body, "Ok.\n");
}

// The contract: apply() issues the work and returns; observe() says READY
// only once the spec is in force, and supervise() gets it there.
TEST_F(LocalRuntimeTest, ApplyReturnsOnceIssuedAndObserveSaysWhenTheSpecIsInForce) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus issued = runtime_->apply(spec);
  track("orders");
  EXPECT_EQ(issued.state, ServiceState::kProvisioning);
  EXPECT_EQ(issued.reason, "starting");
  EXPECT_TRUE(pid_in(clickhouse_pid_file("orders"))) << "the replica is started, not waited for";
  ServiceStatus ready = apply(spec);
  ASSERT_EQ(ready.state, ServiceState::kReady) << ready.reason;
  ASSERT_EQ(runtime_->apply(spec).state, ServiceState::kReady) << "nothing to change: READY at once";

  // A new allowlist is on disk when apply() returns, in force only after the
  // reload supervise() sends and confirms: until then the service isn't READY.
  spec.allowed_ips = {"127.0.0.77/32"};
  EXPECT_EQ(runtime_->apply(spec).state, ServiceState::kProvisioning);
  EXPECT_EQ(observe("orders").state, ServiceState::kProvisioning);
  ASSERT_TRUE(supervise_until([&] { return observe("orders").state == ServiceState::kReady; }));
  EXPECT_EQ(query(ready.endpoint, "SELECT 1", kPassword, "127.0.0.77").status, 200);
  EXPECT_EQ(query(ready.endpoint, "SELECT 1", kPassword, "127.0.0.1").status, 403);
}

TEST_F(LocalRuntimeTest, KeepsSecretsInPrivateFilesAndNothingUnderEtc) {
  ServiceStatus status = apply(service_spec("orders"));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  fs::path svc = service_dir("orders");
  EXPECT_EQ(mode_of(dir_.path() / "runtime"), 0700u);
  EXPECT_EQ(mode_of(svc), 0700u);
  EXPECT_EQ(mode_of(svc / "s1r1" / "data"), 0700u);
  EXPECT_TRUE(fs::exists(svc / "s1r1" / "data" / "preprocessed_configs"));
  EXPECT_EQ(mode_of(svc / "s1r1" / "users.xml"), 0600u);
  EXPECT_EQ(mode_of(svc / "s1r1" / "config.xml"), 0600u);
  EXPECT_EQ(mode_of(svc / "endpoint" / "tls" / "endpoint.pem"), 0600u);
  EXPECT_EQ(mode_of(svc / "endpoint" / "nginx.conf"), 0600u);
  std::string users = files::read(svc / "s1r1" / "users.xml");
  EXPECT_THAT(users, HasSubstr(crypto::sha256_hex(kPassword)));
  EXPECT_THAT(users, Not(HasSubstr(kPassword)));
  std::string config = files::read(svc / "s1r1" / "config.xml");
  EXPECT_THAT(config, Not(HasSubstr("/etc/clickhouse-server")));
  EXPECT_THAT(config, HasSubstr("<path>" + (svc / "s1r1" / "data").string() + "/</path>"));
  // Logs land in the replica's and the endpoint's own directories.
  EXPECT_TRUE(fs::exists(svc / "s1r1" / "logs" / "clickhouse-server.log"));
  EXPECT_TRUE(fs::exists(svc / "endpoint" / "logs" / "error.log"));
  EXPECT_TRUE(fs::exists(svc / "endpoint" / "run" / "nginx.pid"));
  // The ports file matches the endpoint.
  auto ports = local::load_ports(svc / "ports.json");
  ASSERT_TRUE(ports);
  EXPECT_EQ(status.endpoint, "https://127.0.0.1:" + std::to_string(ports->https));
  // The query log on the endpoint carries no query string (passwords, SQL).
  query(status.endpoint + "/?query=SELECT%201&password=hunter2", "", std::nullopt);
  std::string access = files::read(svc / "endpoint" / "logs" / "access.log");
  EXPECT_THAT(access, Not(HasSubstr("hunter2")));
  EXPECT_THAT(access, Not(HasSubstr("query=")));
}

TEST_F(LocalRuntimeTest, ChildrenRunInTheirOwnGroupWithoutOurDescriptors) {
  // A listening socket without CLOEXEC, as Boost.Asio would leave one.
  int leaky = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(leaky, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(leaky, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(leaky, 1), 0);
  struct stat st {};
  ASSERT_EQ(::fstat(leaky, &st), 0);
  const std::string leaked_link = "socket:[" + std::to_string(st.st_ino) + "]";

  ServiceStatus status = apply(service_spec("orders"));
  ::close(leaky);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto ch = pid_in(clickhouse_pid_file("orders"));
  auto ng = pid_in(nginx_pid_file("orders"));
  ASSERT_TRUE(ch && ng);
  std::vector<pid_t> pids = {*ch, *ng};
  for (pid_t worker : local::child_processes(*ng)) pids.push_back(worker);
  EXPECT_GE(pids.size(), 3u);  // nginx has at least one worker
  for (pid_t pid : pids) {
    EXPECT_EQ(::getpgid(pid), pid == *ch ? *ch : *ng) << pid;
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
      std::error_code link_ec;
      EXPECT_NE(fs::read_symlink(fd.path(), link_ec).string(), leaked_link) << "pid " << pid;
    }
  }
  EXPECT_NE(::getpgid(*ch), ::getpgrp());
  // The clickhouse pid file names the process the runtime runs, started on our config.
  EXPECT_THAT(local::process_cmdline(*ch),
              HasSubstr("--config-file=" + (service_dir("orders") / "s1r1" / "config.xml").string()));
}

TEST_F(LocalRuntimeTest, RestartsAKilledReplicaWhichKeepsItsData) {
  ServiceStatus status = apply(service_spec("orders"));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(query(status.endpoint, "CREATE TABLE t (x UInt32) ENGINE = MergeTree ORDER BY x").status, 200);
  ASSERT_EQ(query(status.endpoint, "INSERT INTO t SELECT number FROM system.numbers LIMIT 1000").status, 200);

  auto first = pid_in(clickhouse_pid_file("orders"));
  ASSERT_TRUE(first);
  ASSERT_EQ(::kill(*first, SIGKILL), 0);
  bool saw_restarting = false;
  ASSERT_TRUE(supervise_until([&] {
    ServiceStatus s = observe("orders");
    if (!s.replicas.empty() && s.replicas[0].state == ReplicaState::kRestarting) saw_restarting = true;
    auto now = pid_in(clickhouse_pid_file("orders"));
    return now && *now != *first && s.state == ServiceState::kReady;
  }));
  track("orders");
  EXPECT_TRUE(saw_restarting);
  EXPECT_FALSE(proc::is_alive(*first));
  ServiceStatus after = observe("orders");
  EXPECT_EQ(after.endpoint, status.endpoint);  // same ports after the restart
  EXPECT_EQ(after.replicas[0].last_error_code, 0);
  http::Response rows = query(after.endpoint, "SELECT count(), sum(x) FROM t");
  EXPECT_EQ(rows.status, 200) << rows.body;
  EXPECT_EQ(rows.body, "1000\t499500\n");
}

TEST_F(LocalRuntimeTest, RestartsAKilledEndpointAndItsOrphanedWorkersGo) {
  ServiceStatus status = apply(service_spec("orders"));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto master = pid_in(nginx_pid_file("orders"));
  ASSERT_TRUE(master);
  std::vector<pid_t> workers = local::child_processes(*master);
  ASSERT_FALSE(workers.empty());
  for (pid_t w : workers) started_pids_.insert(w);
  ASSERT_EQ(::kill(*master, SIGKILL), 0);
  ASSERT_TRUE(supervise_until([&] {
    auto now = pid_in(nginx_pid_file("orders"));
    return now && *now != *master && observe("orders").state == ServiceState::kReady;
  }));
  track("orders");
  for (pid_t w : workers) EXPECT_TRUE(proc::wait_gone(w, std::chrono::seconds(5))) << "worker " << w;
  EXPECT_EQ(observe("orders").endpoint, status.endpoint);
  EXPECT_EQ(query(status.endpoint, "SELECT 1").body, "1\n");
}

TEST_F(LocalRuntimeTest, AllowlistChangesReloadTheEndpointWithoutRestartingAnything) {
  const std::string outsider = "127.0.0.77";
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto clickhouse = pid_in(clickhouse_pid_file("orders"));
  auto nginx = pid_in(nginx_pid_file("orders"));
  ASSERT_TRUE(clickhouse && nginx);
  // Empty allowlist: loopback 127.0.0.1 only.
  EXPECT_EQ(query(status.endpoint, "SELECT 1", kPassword, "127.0.0.1").status, 200);
  EXPECT_EQ(query(status.endpoint, "SELECT 1", kPassword, outsider).status, 403);

  spec.allowed_ips = {"127.0.0.0/8"};
  ASSERT_EQ(apply(spec).state, ServiceState::kReady);
  EXPECT_EQ(query(status.endpoint, "SELECT 1", kPassword, outsider).status, 200);

  spec.allowed_ips = {"127.0.0.1/32"};
  ASSERT_EQ(apply(spec).state, ServiceState::kReady);
  http::Response denied = query(status.endpoint, "SELECT 1", kPassword, outsider);
  EXPECT_EQ(denied.status, 403);
  EXPECT_THAT(denied.body, Not(HasSubstr("1\n")));
  EXPECT_EQ(query(status.endpoint, "SELECT 1", kPassword, "127.0.0.1").status, 200);

  spec.allowed_ips = {"127.0.0.64/26", "10.0.0.0/8"};
  ServiceStatus restored = apply(spec);
  ASSERT_EQ(restored.state, ServiceState::kReady);
  EXPECT_EQ(query(status.endpoint, "SELECT 1", kPassword, outsider).status, 200);
  // The runtime still probes from 127.0.0.1, which the customer no longer allows.
  EXPECT_EQ(query(status.endpoint, "SELECT 1", kPassword, "127.0.0.1").status, 403);

  EXPECT_EQ(restored.endpoint, status.endpoint);
  EXPECT_EQ(pid_in(clickhouse_pid_file("orders")), clickhouse);
  EXPECT_EQ(pid_in(nginx_pid_file("orders")), nginx);
  EXPECT_TRUE(proc::is_alive(*clickhouse));
  EXPECT_TRUE(proc::is_alive(*nginx));
}

TEST_F(LocalRuntimeTest, LimitChangesReachClickHouseWithoutARestart) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto clickhouse = pid_in(clickhouse_pid_file("orders"));
  auto setting = [&](const std::string& name) {
    return query(status.endpoint, "SELECT value FROM system.settings WHERE name = '" + name + "'").body;
  };
  EXPECT_EQ(setting("max_threads"), "1\n");
  EXPECT_EQ(setting("max_execution_time"), "600\n");
  const int64_t mib = 1024 * 1024;
  EXPECT_EQ(setting("max_memory_usage"), std::to_string(1024 * mib * 9 / 10 - 1024 * mib / 8) + "\n");

  spec.cpu_millis = 2500;
  spec.memory_mib = 2048;
  ASSERT_EQ(apply(spec).state, ServiceState::kReady);
  EXPECT_TRUE(testing::eventually([&] { return setting("max_threads") == "3\n"; }));
  EXPECT_EQ(setting("max_memory_usage"), std::to_string(2048 * mib * 9 / 10 - 2048 * mib / 8) + "\n");
  EXPECT_EQ(setting("max_memory_usage_for_all_queries"),
            std::to_string(2048 * mib * 9 / 10 - 2048 * mib / 8) + "\n");
  EXPECT_EQ(pid_in(clickhouse_pid_file("orders")), clickhouse);
}

TEST_F(LocalRuntimeTest, RemoveStopsEveryProcessAndDeletesTheService) {
  ServiceStatus status = apply(service_spec("orders"));
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto clickhouse = pid_in(clickhouse_pid_file("orders"));
  auto nginx = pid_in(nginx_pid_file("orders"));
  ASSERT_TRUE(clickhouse && nginx);
  std::vector<pid_t> pids = {*clickhouse, *nginx};
  for (pid_t w : local::child_processes(*nginx)) pids.push_back(w);
  for (pid_t p : pids) started_pids_.insert(p);

  runtime_->remove("orders");
  for (pid_t p : pids) EXPECT_FALSE(proc::is_alive(p)) << p;
  EXPECT_FALSE(fs::exists(service_dir("orders")));
  EXPECT_TRUE(runtime_->services().empty());
  EXPECT_TRUE(runtime_->observe().empty());
  // supervise() has nothing to bring back.
  runtime_->supervise();
  EXPECT_FALSE(fs::exists(service_dir("orders")));
  EXPECT_NO_THROW(runtime_->remove("orders"));  // idempotent
  auto port = std::stoi(status.endpoint.substr(status.endpoint.rfind(':') + 1));
  EXPECT_FALSE(proc::port_accepts("127.0.0.1", port));
}

TEST_F(LocalRuntimeTest, StopAllKeepsDataAndPortsForTheNextApply) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_EQ(query(status.endpoint, "CREATE TABLE t (x UInt8) ENGINE = TinyLog").status, 200);
  ASSERT_EQ(query(status.endpoint, "INSERT INTO t VALUES (7)").status, 200);
  auto clickhouse = pid_in(clickhouse_pid_file("orders"));
  auto nginx = pid_in(nginx_pid_file("orders"));
  ASSERT_TRUE(clickhouse && nginx);

  runtime_->stop_all();
  EXPECT_FALSE(proc::is_alive(*clickhouse));
  EXPECT_FALSE(proc::is_alive(*nginx));
  ServiceStatus stopped = observe("orders");
  EXPECT_EQ(stopped.state, ServiceState::kProvisioning);
  EXPECT_EQ(stopped.reason, "stopped");
  ASSERT_EQ(stopped.replicas.size(), 1u);
  EXPECT_EQ(stopped.replicas[0].state, ReplicaState::kStopped);
  runtime_->supervise();  // stopped means stopped: nothing restarts
  EXPECT_FALSE(pid_in(clickhouse_pid_file("orders")).has_value());

  ServiceStatus again = apply(spec);
  ASSERT_EQ(again.state, ServiceState::kReady) << again.reason;
  EXPECT_EQ(again.endpoint, status.endpoint);
  EXPECT_EQ(query(again.endpoint, "SELECT x FROM t").body, "7\n");
}

TEST_F(LocalRuntimeTest, ANewRuntimeAdoptsRunningProcessesInsteadOfStartingTwice) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto clickhouse = pid_in(clickhouse_pid_file("orders"));
  auto nginx = pid_in(nginx_pid_file("orders"));
  ASSERT_TRUE(clickhouse && nginx);

  // A second runtime on the same root is refused while the first lives.
  try {
    make_runtime();
    ADD_FAILURE() << "a second runtime took the root";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  }

  runtime_.reset();  // the agent goes away; its processes stay
  EXPECT_TRUE(proc::is_alive(*clickhouse));
  runtime_ = make_runtime();
  ServiceStatus before_apply = observe("orders");  // seen through pid files, not yet supervised
  EXPECT_EQ(before_apply.state, ServiceState::kReady) << before_apply.reason;

  ServiceStatus adopted = apply(spec);
  ASSERT_EQ(adopted.state, ServiceState::kReady) << adopted.reason;
  EXPECT_EQ(pid_in(clickhouse_pid_file("orders")), clickhouse);
  EXPECT_EQ(pid_in(nginx_pid_file("orders")), nginx);
  EXPECT_EQ(adopted.endpoint, status.endpoint);

  // An adopted process is supervised like our own children.
  ASSERT_EQ(::kill(*clickhouse, SIGKILL), 0);
  ASSERT_TRUE(supervise_until([&] {
    auto now = pid_in(clickhouse_pid_file("orders"));
    return now && *now != *clickhouse && observe("orders").state == ServiceState::kReady;
  }));
  track("orders");
  EXPECT_EQ(query(adopted.endpoint, "SELECT 1").body, "1\n");
}

TEST_F(LocalRuntimeTest, AnEndpointWhoseMasterDiedWhileNoRuntimeWatchedComesBackOnItsPort) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto master = pid_in(nginx_pid_file("orders"));
  ASSERT_TRUE(master);
  std::vector<pid_t> workers = local::child_processes(*master);
  ASSERT_FALSE(workers.empty());
  for (pid_t w : workers) started_pids_.insert(w);

  runtime_.reset();                        // the agent is down...
  ASSERT_EQ(::kill(*master, SIGKILL), 0);  // ...when nginx's master dies; its workers hold the port
  ASSERT_TRUE(proc::wait_gone(*master, std::chrono::seconds(5)));
  EXPECT_TRUE(proc::is_alive(workers.front()));

  runtime_ = make_runtime();
  ServiceStatus back = apply(spec);
  ASSERT_EQ(back.state, ServiceState::kReady) << back.reason;
  EXPECT_EQ(back.endpoint, status.endpoint);
  EXPECT_NE(pid_in(nginx_pid_file("orders")), master);
  for (pid_t w : workers) EXPECT_TRUE(proc::wait_gone(w, std::chrono::seconds(5))) << "worker " << w;
  EXPECT_EQ(query(back.endpoint, "SELECT 1").body, "1\n");
}

TEST_F(LocalRuntimeTest, ANewEnvironmentCaReissuesTheCertificateWithAReloadOnly) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto nginx = pid_in(nginx_pid_file("orders"));
  auto clickhouse = pid_in(clickhouse_pid_file("orders"));
  std::string first_bundle = files::read(service_dir("orders") / "endpoint" / "tls" / "endpoint.pem");
  // An unchanged apply rewrites nothing.
  ASSERT_EQ(apply(spec).state, ServiceState::kReady);
  EXPECT_EQ(files::read(service_dir("orders") / "endpoint" / "tls" / "endpoint.pem"), first_bundle);

  crypto::KeyedCertificate old_ca = ca_;
  runtime_.reset();
  ca_ = make_environment_ca();
  runtime_ = make_runtime();
  ServiceStatus rotated = apply(spec);
  ASSERT_EQ(rotated.state, ServiceState::kReady) << rotated.reason;
  EXPECT_EQ(query(rotated.endpoint, "SELECT 1").body, "1\n");  // trusted through the new CA
  http::Client old_client(http::TlsOptions{.ca_pem = old_ca.cert_pem});
  http::Request ping;
  ping.url = rotated.endpoint + "/ping";
  EXPECT_THROW(old_client.send(ping), Error);
  EXPECT_EQ(pid_in(nginx_pid_file("orders")), nginx);
  EXPECT_EQ(pid_in(clickhouse_pid_file("orders")), clickhouse);
}

// Holds a TCP port on 127.0.0.1 as a stranger would.
class PortSquatter {
 public:
  explicit PortSquatter(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    int one = 1;  // as servers do: connections in TIME_WAIT don't block the bind
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 1) == 0;
  }
  ~PortSquatter() { ::close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

TEST_F(LocalRuntimeTest, MovesToNewPortsWhenSomeoneTookThePersistedOnes) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  runtime_->stop_all();
  auto ports = local::load_ports(service_dir("orders") / "ports.json");
  ASSERT_TRUE(ports);
  PortSquatter https(ports->https);
  PortSquatter http(ports->replicas.at("s1r1").http);
  ASSERT_TRUE(https.ok() && http.ok());

  ServiceStatus moved = apply(spec);
  ASSERT_EQ(moved.state, ServiceState::kReady) << moved.reason;
  EXPECT_NE(moved.endpoint, status.endpoint);
  auto now = local::load_ports(service_dir("orders") / "ports.json");
  ASSERT_TRUE(now);
  EXPECT_NE(now->https, ports->https);
  EXPECT_NE(now->replicas.at("s1r1").http, ports->replicas.at("s1r1").http);
  EXPECT_EQ(now->replicas.at("s1r1").tcp, ports->replicas.at("s1r1").tcp);  // only what was taken moves
  EXPECT_EQ(moved.endpoint, "https://127.0.0.1:" + std::to_string(now->https));
  EXPECT_EQ(query(moved.endpoint, "SELECT 1").body, "1\n");
}

TEST_F(LocalRuntimeTest, SupervisesAndObservesFromAnotherThreadWhileApplying) {
  // The agent's shape: one thread applies, another supervises and observes.
  std::atomic<bool> done{false};
  std::atomic<int> rounds{0};
  std::thread agent_timer([&] {
    while (!done) {
      runtime_->supervise();
      runtime_->observe();
      ++rounds;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& thread;
    ~Join() {
      done = true;
      thread.join();
    }
  } join{done, agent_timer};

  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  auto first = pid_in(clickhouse_pid_file("orders"));
  ASSERT_TRUE(first);
  ASSERT_EQ(::kill(*first, SIGKILL), 0);
  for (const char* cidr : {"127.0.0.0/8", "127.0.0.1/32", "127.0.0.0/16"}) {
    spec.allowed_ips = {cidr};
    ServiceStatus s = apply(spec);  // the replica may be restarting meanwhile: observe waits for it
    EXPECT_EQ(s.state, ServiceState::kReady) << cidr << " " << s.reason;
  }
  track("orders");
  EXPECT_NE(pid_in(clickhouse_pid_file("orders")), first);
  EXPECT_EQ(query(status.endpoint, "SELECT 1", kPassword, "127.0.0.77").status, 200);
  EXPECT_GT(rounds.load(), 0);
}

TEST_F(LocalRuntimeTest, ServesTheNativeProtocolOverTlsBehindTheSameAllowlist) {
  ServiceSpec spec = service_spec("orders");
  ServiceStatus status = apply(spec);
  ASSERT_EQ(status.state, ServiceState::kReady) << status.reason;
  ASSERT_THAT(status.native_endpoint, HasSubstr("127.0.0.1:"));
  int port = std::stoi(status.native_endpoint.substr(status.native_endpoint.rfind(':') + 1));
  auto ports = local::load_ports(service_dir("orders") / "ports.json");
  ASSERT_TRUE(ports);
  EXPECT_EQ(port, ports->native_tls);

  fs::path ca_file = dir_.path() / "ca.pem";
  files::write_atomic(ca_file, ca_.cert_pem);
  auto [code, out] = native_query(dir_.path(), port, ca_file, kPassword, "SELECT 40 + 2");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "42\n");
  auto [bad_code, bad_out] = native_query(dir_.path(), port, ca_file, "wrong", "SELECT 1");
  EXPECT_NE(bad_code, 0) << bad_out;
  fs::path other_ca = dir_.path() / "other-ca.pem";
  files::write_atomic(other_ca, make_environment_ca().cert_pem);
  auto [untrusted_code, untrusted_out] = native_query(dir_.path(), port, other_ca, kPassword, "SELECT 1");
  EXPECT_NE(untrusted_code, 0) << untrusted_out;

  EXPECT_TRUE(tls_handshake(port, ca_.cert_pem, "127.0.0.1"));
  EXPECT_FALSE(tls_handshake(port, ca_.cert_pem, "127.0.0.77"));
  spec.allowed_ips = {"127.0.0.77/32"};
  ASSERT_EQ(apply(spec).state, ServiceState::kReady);
  EXPECT_TRUE(tls_handshake(port, ca_.cert_pem, "127.0.0.77"));
  EXPECT_FALSE(tls_handshake(port, ca_.cert_pem, "127.0.0.1"));
}

TEST_F(LocalRuntimeTest, RefusesWhatItCannotRunWithoutTouchingDisk) {
  ServiceSpec spec = service_spec("orders");
  spec.clickhouse_version = "24.3";
  ServiceStatus status = runtime_->apply(spec);
  EXPECT_EQ(status.state, ServiceState::kFailed);
  EXPECT_EQ(status.reason, "unsupported_version");
  EXPECT_FALSE(fs::exists(service_dir("orders")));

  auto invalid = [&](const std::function<void(ServiceSpec&)>& change) {
    ServiceSpec bad = service_spec("orders");
    change(bad);
    try {
      runtime_->apply(bad);
      ADD_FAILURE() << "accepted a bad spec";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalid) << e.what();
    }
  };
  invalid([](ServiceSpec& s) { s.name = "../escape"; });
  invalid([](ServiceSpec& s) { s.name = "Orders"; });
  invalid([](ServiceSpec& s) { s.default_password_sha256_hex = "plain"; });
  invalid([](ServiceSpec& s) { s.allowed_ips = {"10.0.0.0/8; allow all"}; });
  invalid([](ServiceSpec& s) { s.memory_mib = 10; });
  invalid([](ServiceSpec& s) { s.shards = 65; });
  invalid([](ServiceSpec& s) { s.replicas = 17; });
  invalid([](ServiceSpec& s) { s.replicas = 0; });
  EXPECT_FALSE(fs::exists(service_dir("orders")));
  EXPECT_TRUE(runtime_->services().empty());
  EXPECT_THROW(runtime_->remove("../x"), Error);
}

}  // namespace
}  // namespace byoc::agent
