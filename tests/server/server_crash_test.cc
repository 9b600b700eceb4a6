// The management plane as real processes: crash safety of environment
// creation, the direction of every connection, and the agent's join checks.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "base/files.h"
#include "base/process.h"
#include "server_process.h"
#include "testing/testing.h"

namespace byoc::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

std::vector<e2e::ProcessInfo> agents_under(const fs::path& dir) {
  std::vector<e2e::ProcessInfo> out;
  for (const auto& p : e2e::processes_mentioning(dir))
    if (p.command.find(" agent ") != std::string::npos) out.push_back(p);
  return out;
}

class ServerCrash : public ::testing::TestWithParam<int> {};

// kill -9 at different instants of an environment create: right after the
// POST, while the agent is starting, and once it has joined.
TEST_P(ServerCrash, EnvironmentCreateConvergesAfterRestart) {
  testing::TempDir scratch;
  ServerProcess server(scratch.path(), proc::pick_free_port());
  server.start();
  auto [status, op] = server.call("POST", "/v1/environments",
                                  {{"name", "crashy"}, {"cloud", "local"}, {"cidr", "10.20.0.0/16"}});
  ASSERT_EQ(status, 202) << op.dump();
  std::this_thread::sleep_for(std::chrono::milliseconds(GetParam()));  // the instant of the crash
  server.kill9();
  server.start();

  json done = server.wait_operation(op["id"]);
  EXPECT_EQ(done["status"], "succeeded") << done.dump();
  auto [list_status, list] = server.call("GET", "/v1/environments");
  ASSERT_EQ(list["items"].size(), 1u) << list.dump();
  EXPECT_EQ(list["items"][0]["state"], "READY");
  // Exactly one agent: a restarted server adopts the one that survived.
  EXPECT_TRUE(testing::eventually([&] {
    auto [s, env] = server.call("GET", "/v1/environments/crashy");
    return env["conditions"][0]["status"] == true;
  }, 60s));
  auto agents = agents_under(server.data_dir());
  EXPECT_EQ(agents.size(), 1u) << e2e::describe(agents);
  // Reconciling again (resync runs every few seconds) changes nothing.
  std::string finished_at = done["updated_at"];
  std::this_thread::sleep_for(12s);
  EXPECT_EQ(server.wait_operation(op["id"])["updated_at"], finished_at);
  EXPECT_EQ(agents_under(server.data_dir()).size(), 1u);

  auto [del_status, del] = server.call("DELETE", "/v1/environments/crashy");
  ASSERT_EQ(del_status, 202);
  EXPECT_EQ(server.wait_operation(del["id"])["status"], "succeeded");
  EXPECT_TRUE(testing::eventually([&] { return agents_under(server.data_dir()).empty(); }, 60s));
}

INSTANTIATE_TEST_SUITE_P(Instants, ServerCrash, ::testing::Values(0, 40, 400));

TEST(ServerRestart, OnAnotherPortRestartsItsAgentsOnce) {
  testing::TempDir scratch;
  ServerProcess server(scratch.path(), proc::pick_free_port());
  server.start();
  auto [status, op] = server.call("POST", "/v1/environments",
                                  {{"name", "moving"}, {"cloud", "local"}, {"cidr", "10.22.0.0/16"}});
  ASSERT_EQ(server.wait_operation(op["id"])["status"], "succeeded");
  auto connected = [&] {
    auto [s, env] = server.call("GET", "/v1/environments/moving");
    return env["conditions"][0]["status"] == true;
  };
  ASSERT_TRUE(testing::eventually(connected, 60s));
  auto before = agents_under(server.data_dir());
  ASSERT_EQ(before.size(), 1u);
  server.kill9();  // the agent survives, dialling the old port
  server.set_port(proc::pick_free_port());
  server.start();
  EXPECT_TRUE(testing::eventually([&] {
    auto agents = agents_under(server.data_dir());
    return agents.size() == 1 && agents[0].pid != before[0].pid && connected();
  }, 60s)) << e2e::describe(agents_under(server.data_dir()));
  auto [del_status, del] = server.call("DELETE", "/v1/environments/moving");
  EXPECT_EQ(server.wait_operation(del["id"])["status"], "succeeded");
}

std::set<unsigned long> socket_inodes(pid_t pid) {
  std::set<unsigned long> out;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    std::string target = fs::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) out.insert(std::stoul(target.substr(8)));
  }
  return out;
}

// (local port, remote port) of every ESTABLISHED TCP socket with one of `inodes`.
std::vector<std::pair<int, int>> established(pid_t pid, const std::set<unsigned long>& inodes) {
  std::vector<std::pair<int, int>> out;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string slot, local, remote, state, queues, timer, retr, uid, timeout;
      unsigned long inode = 0;
      ss >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state != "01" || !inodes.count(inode)) continue;
      out.emplace_back(std::stoi(local.substr(local.find(':') + 1), nullptr, 16),
                       std::stoi(remote.substr(remote.find(':') + 1), nullptr, 16));
    }
  }
  return out;
}

TEST(ServerConnections, EveryEstablishedSocketWasAccepted) {
  testing::TempDir scratch;
  ServerProcess server(scratch.path(), proc::pick_free_port());
  server.start();
  auto [status, op] = server.call("POST", "/v1/environments",
                                  {{"name", "probe"}, {"cloud", "local"}, {"cidr", "10.21.0.0/16"}});
  ASSERT_EQ(server.wait_operation(op["id"])["status"], "succeeded");
  ASSERT_TRUE(testing::eventually([&] {
    auto [s, env] = server.call("GET", "/v1/environments/probe");
    return env["conditions"][0]["status"] == true;
  }, 60s));
  auto sockets = established(server.pid(), socket_inodes(server.pid()));
  ASSERT_FALSE(sockets.empty()) << "the agent's long-poll should hold a connection";
  // The one outbound peer allowed is the store's database (PostgreSQL).
  int store_port = -1;
  if (const std::string& uri = server.store_arg(); !uri.empty()) {
    auto colon = uri.rfind(':'), slash = uri.rfind('/');
    store_port = std::stoi(uri.substr(colon + 1, slash - colon - 1));
  }
  for (auto [local, remote] : sockets) {
    if (remote != store_port) {
      EXPECT_EQ(local, server.port()) << "an outbound connection from the server to port " << remote;
    }
  }
  auto [del_status, del] = server.call("DELETE", "/v1/environments/probe");
  EXPECT_EQ(server.wait_operation(del["id"])["status"], "succeeded");
}

struct JoinFixture {
  JoinFixture() : server(scratch.path(), proc::pick_free_port()) {
    server.start();
    auto [s, op] = server.call("POST", "/v1/environments",
                               {{"name", "ext"}, {"cloud", "external"}, {"cidr", "192.168.10.0/24"}});
    server.wait_operation(op["id"]);
  }
  std::string token() {
    auto [s, body] = server.call("POST", "/v1/environments/ext/join-tokens", json::object());
    return body["token"];
  }
  e2e::RunResult run_agent(const std::string& token, const std::string& name) {
    fs::path token_file = scratch.path() / (name + ".token");
    files::write_atomic(token_file, token, 0600);
    // The agent would run forever once joined; give it a few seconds, then stop it.
    e2e::Child agent({"agent", "--state-dir", (scratch.path() / name).string(), "--server", server.url(),
                      "--join-token-file", token_file.string()},
                     {{"HOME", scratch.path().string()}}, scratch.path() / name);
    auto code = agent.wait(10s);
    e2e::RunResult r;
    if (!code) agent.stop(30s);
    r.code = code.value_or(-1);
    r.err = agent.err();
    return r;
  }
  testing::TempDir scratch;
  ServerProcess server;
};

TEST(AgentJoin, RefusesAServerWhoseCaIsNotTheTokensOne) {
  JoinFixture f;
  std::string token = f.token();
  token.replace(token.size() - 64, 64, std::string(64, '0'));
  e2e::RunResult r = f.run_agent(token, "mitm");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("does not present the CA"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(f.scratch.path() / "mitm" / "agent.pem"));
}

TEST(AgentJoin, TokenIsSingleUseAndConnectsTheAgent) {
  JoinFixture f;
  std::string token = f.token();
  e2e::RunResult first = f.run_agent(token, "a1");
  EXPECT_EQ(first.code, -1) << "a joined agent keeps running: " << first.err;  // stopped by us
  EXPECT_EQ(e2e::file_mode(f.scratch.path() / "a1" / "agent.key") & 0777, 0600u);
  e2e::RunResult second = f.run_agent(token, "a2");
  EXPECT_NE(second.code, 0);
  EXPECT_NE(second.err.find("join refused (HTTP 401)"), std::string::npos) << second.err;
}

}  // namespace
}  // namespace byoc::test
