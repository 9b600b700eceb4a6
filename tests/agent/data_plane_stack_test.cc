// The data plane under a real `byoc server` with a `local` environment: a
// 2 x 2 service created through the API while the server, or separately the
// agent, is killed with -9 at different instants of the create. Whatever the
// instant, the create converges to exactly one ZooKeeper, four replicas and
// one endpoint — no duplicate, no orphan — and deleting the service leaves
// nothing running.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "../server/server_process.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "testing/testing.h"

namespace byoc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

// The processes of an environment, by role (from their command lines).
struct DataPlaneProcesses {
  std::vector<e2e::ProcessInfo> agents, replicas, endpoints, zookeepers, others;
  std::map<std::string, int> replica_configs;  // config.xml -> processes running it
};

pid_t parent_of(pid_t pid) {
  std::string stat = e2e::read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos ? 0 : std::atoi(stat.c_str() + close + 4);  // ") S PPID"
}

DataPlaneProcesses data_plane(const fs::path& env_dir) {
  DataPlaneProcesses out;
  std::vector<e2e::ProcessInfo> processes = e2e::processes_mentioning(env_dir);
  std::set<pid_t> agent_pids;
  for (const auto& p : processes)
    if (p.command.find(" agent ") != std::string::npos) agent_pids.insert(p.pid);
  for (const auto& p : processes) {
    // A child the agent has forked but not exec'd yet still shows the agent's command line.
    if (agent_pids.count(p.pid) && agent_pids.count(parent_of(p.pid))) continue;
    auto config = p.command.find("--config-file=");
    if (p.command.find(" agent ") != std::string::npos) {
      out.agents.push_back(p);
    } else if (config != std::string::npos) {
      out.replicas.push_back(p);
      out.replica_configs[p.command.substr(config, p.command.find(' ', config) - config)]++;
    } else if (p.command.rfind("nginx: master process", 0) == 0) {
      out.endpoints.push_back(p);
    } else if (p.executable == "java" && p.command.find("QuorumPeerMain") != std::string::npos) {
      out.zookeepers.push_back(p);
    } else {
      out.others.push_back(p);
    }
  }
  return out;
}

std::string describe(const DataPlaneProcesses& d) {
  return "agents:" + e2e::describe(d.agents) + "\nreplicas:" + e2e::describe(d.replicas) +
         "\nendpoints:" + e2e::describe(d.endpoints) + "\nzookeepers:" + e2e::describe(d.zookeepers) +
         "\nothers:" + e2e::describe(d.others);
}

bool process_running(const fs::path& env_dir, const std::string& what) {
  DataPlaneProcesses d = data_plane(env_dir);
  return what == "zookeeper" ? !d.zookeepers.empty() : !d.replicas.empty();
}

struct Instant {
  const char* victim;  // "server" or "agent"
  const char* when;    // "posted": right after the create is accepted; else once that process runs
};

void PrintTo(const Instant& instant, std::ostream* os) { *os << instant.victim << " at " << instant.when; }

std::string instant_name(const ::testing::TestParamInfo<Instant>& info) {
  return std::string(info.param.victim) + "_at_" + info.param.when;
}

class CreateCrash : public ::testing::TestWithParam<Instant> {};

TEST_P(CreateCrash, ExactlyOneCopyOfEveryProcessRunsAndNothingIsOrphaned) {
  const Instant instant = GetParam();
  testing::TempDir scratch("byoc-stack");
  ServerProcess server(scratch.path(), proc::pick_free_port());
  server.start();
  auto [env_status, env_op] = server.call("POST", "/v1/environments",
                                          {{"name", "stack"}, {"cloud", "local"}, {"cidr", "10.30.0.0/16"}});
  ASSERT_EQ(env_status, 202) << env_op.dump();
  json created = server.wait_operation(env_op["id"]);
  ASSERT_EQ(created["status"], "succeeded") << created.dump();
  json environment;
  ASSERT_TRUE(testing::eventually(
      [&] {
        environment = server.call("GET", "/v1/environments/stack").second;
        return environment["conditions"][0]["status"] == true && environment.value("ca_pem", "") != "";
      },
      60s))
      << environment.dump();
  const fs::path env_dir = server.data_dir() / "environments" / environment["id"].get<std::string>();
  ASSERT_EQ(data_plane(env_dir).agents.size(), 1u) << describe(data_plane(env_dir));

  auto [svc_status, svc_op] = server.call(
      "POST", "/v1/environments/stack/services",
      {{"name", "orders"}, {"shards", 2}, {"replicas", 2}, {"cpu_millis", 500}, {"memory_mib", 512}});
  ASSERT_EQ(svc_status, 202) << svc_op.dump();
  const std::string password = svc_op["password"];
  if (std::string(instant.when) != "posted") {
    ASSERT_TRUE(testing::eventually([&] { return process_running(env_dir, instant.when); }, 60s))
        << describe(data_plane(env_dir));
  }
  if (std::string(instant.victim) == "server") {
    server.kill9();
    server.start();
  } else {
    auto agents = data_plane(env_dir).agents;
    ASSERT_EQ(agents.size(), 1u);
    ASSERT_EQ(::kill(agents[0].pid, SIGKILL), 0);
    ASSERT_TRUE(proc::wait_gone(agents[0].pid, 10s));
    // The server notices on its next resync and starts the agent again.
  }

  json done = server.wait_operation(svc_op["id"], 180s);
  ASSERT_EQ(done["status"], "succeeded") << done.dump();
  json service;
  ASSERT_TRUE(testing::eventually(
      [&] {
        service = server.call("GET", "/v1/environments/stack/services/orders").second;
        return service.value("state", "") == "READY";
      },
      60s))
      << service.dump();

  // One agent, one ZooKeeper, one endpoint, one process per replica.
  DataPlaneProcesses d = data_plane(env_dir);
  EXPECT_EQ(d.agents.size(), 1u) << describe(d);
  EXPECT_EQ(d.zookeepers.size(), 1u) << describe(d);
  EXPECT_EQ(d.endpoints.size(), 1u) << describe(d);
  EXPECT_EQ(d.replicas.size(), 4u) << describe(d);
  EXPECT_EQ(d.replica_configs.size(), 4u) << describe(d);
  for (const auto& [config, count] : d.replica_configs) EXPECT_EQ(count, 1) << config;
  EXPECT_TRUE(d.others.empty()) << describe(d);
  // Every process has its pid file naming it: the replicas', ZooKeeper's, and
  // the endpoint's two (the runtime's and nginx's own).
  EXPECT_EQ(e2e::live_pid_files(env_dir / "services").size(), 4u + 1 + 2) << describe(d);

  // The service answers with the whole cluster behind its endpoint.
  http::Client client(http::TlsOptions{.ca_pem = environment["ca_pem"].get<std::string>()});
  http::Request request;
  request.method = "POST";
  request.url = service["endpoint"].get<std::string>() + "/";
  request.body = "SELECT count() FROM system.clusters WHERE cluster = 'orders'";
  request.headers = {{"X-ClickHouse-User", "default"}, {"X-ClickHouse-Key", password}};
  http::Response answer = client.send(request);
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.body, "4\n");

  auto [del_status, del] = server.call("DELETE", "/v1/environments/stack/services/orders");
  ASSERT_EQ(del_status, 202) << del.dump();
  EXPECT_EQ(server.wait_operation(del["id"], 120s)["status"], "succeeded");
  EXPECT_TRUE(testing::eventually(
      [&] {
        DataPlaneProcesses left = data_plane(env_dir);
        return left.replicas.empty() && left.endpoints.empty() && left.zookeepers.empty();
      },
      60s))
      << describe(data_plane(env_dir));
  EXPECT_FALSE(fs::exists(env_dir / "services" / "_zookeeper"));

  auto [env_del_status, env_del] = server.call("DELETE", "/v1/environments/stack");
  ASSERT_EQ(env_del_status, 202) << env_del.dump();
  EXPECT_EQ(server.wait_operation(env_del["id"], 120s)["status"], "succeeded");
  EXPECT_TRUE(testing::eventually([&] { return e2e::processes_mentioning(env_dir).empty(); }, 60s))
      << e2e::describe(e2e::processes_mentioning(env_dir));
}

INSTANTIATE_TEST_SUITE_P(Instants, CreateCrash,
                         ::testing::Values(Instant{"server", "posted"}, Instant{"server", "replica"},
                                           Instant{"agent", "zookeeper"}, Instant{"agent", "replica"}),
                         instant_name);

}  // namespace
}  // namespace byoc::test
