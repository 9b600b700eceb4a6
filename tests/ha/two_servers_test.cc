// Two `byoc server` processes on one PostgreSQL database (started by the test
// run), the second given the first's keys with --keys-from, both on one
// `local` cloud directory:
// - what one server writes the other reads at once, and a token revoked
//   through one is refused by the other at once;
// - an environment created through one server, which is killed with SIGKILL
//   while it provisions, is finished by the other once the lease ran out —
//   with no second action: the same action token, the same agent process,
//   one join token;
// - an agent whose server is killed reconnects to the other and gets a
//   change made through it within a second.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "base/files.h"
#include "base/process.h"
#include "../server/server_process.h"
#include "testing/postgres.h"
#include "testing/testing.h"

namespace byoc::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kLeaseSeconds = 4;

class TwoServers : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* s : {&a, &b}) {
      s->use_store(database.uri());
      s->set_extra_args({"--lease-seconds", std::to_string(kLeaseSeconds), "--local-cloud-dir", cloud.string()});
    }
    a.start();
    // B is made of A's keys: the same CA (pinned by the CLI and by agents),
    // agent CA, session-ticket secret and admin token.
    b.set_extra_args({"--lease-seconds", std::to_string(kLeaseSeconds), "--local-cloud-dir", cloud.string(),
                      "--keys-from", a.data_dir().string()});
    b.start();
    // Each knows the other at once (a joining server tells the plane).
    for (auto* s : {&a, &b})
      ASSERT_TRUE(testing::eventually([&] { return s->call("GET", "/v1/servers").second["items"].size() == 2; }, 5s));
    ASSERT_EQ(servers_listed(), 2);
  }

  void TearDown() override {
    a.stop();
    b.stop();
    e2e::kill_processes_mentioning(cloud);
  }

  // Servers of the plane the database lists as live.
  int servers_listed() {
    return std::stoi(testing::postgres_exec(database.uri(), "SELECT count(*) FROM servers"));
  }
  std::string sql(const std::string& query) { return testing::postgres_exec(database.uri(), query); }

  testing::TestDatabase database;
  testing::TempDir scratch;
  fs::path cloud = scratch.path() / "cloud";
  ServerProcess a{scratch.path() / "a", proc::pick_free_port()};
  ServerProcess b{scratch.path() / "b", proc::pick_free_port()};
};

TEST_F(TwoServers, SecondServerSharesTheKeysNoneInTheDatabaseAllPrivate) {
  for (const char* name : {"ca.pem", "ca.key", "agent-ca.pem", "agent-ca.key", "session-ticket.key", "audit-log.key",
                           "admin.token"}) {
    EXPECT_EQ(files::read(a.data_dir() / name), files::read(b.data_dir() / name)) << name;
    struct stat st {};
    ASSERT_EQ(::stat((b.data_dir() / name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  // Each serves its own certificate, from the shared CA.
  EXPECT_NE(files::read(a.data_dir() / "server.key"), files::read(b.data_dir() / "server.key"));
  // No key, and no token, anywhere in the database.
  std::string dump = testing::postgres_dump(database.uri());
  ASSERT_NE(dump.find("servers"), std::string::npos) << "the dump is empty";
  EXPECT_EQ(dump.find("PRIVATE KEY"), std::string::npos);
  for (const char* name : {"ca.key", "agent-ca.key", "server.key", "audit-log.key"}) {
    std::string key = files::read(a.data_dir() / name);
    std::string body = key.substr(key.find('\n') + 1, 40);
    EXPECT_EQ(dump.find(body), std::string::npos) << name;
  }
  std::string admin = files::read(a.data_dir() / "admin.token");
  EXPECT_EQ(dump.find(admin.substr(admin.find('.') + 1, 20)), std::string::npos) << "the admin token's secret";
}

TEST_F(TwoServers, ReadsOnOneSeeWritesThroughTheOtherAtOnce) {
  for (int i = 0; i < 20; ++i) {
    std::string name = "env" + std::to_string(i);
    auto [created, op] = a.call("POST", "/v1/environments",
                                {{"name", name}, {"cloud", "external"}, {"cidr", "10.40.0.0/16"}});
    ASSERT_EQ(created, 202) << op.dump();
    auto [status, got] = b.call("GET", "/v1/environments/" + name);
    EXPECT_EQ(status, 200) << name << ": " << got.dump();
    EXPECT_EQ(b.call("GET", "/v1/operations/" + op["id"].get<std::string>()).first, 200);
  }
  // A list B answered (and may keep) is never served stale after A's write.
  auto [s1, before] = b.call("GET", "/v1/organizations");
  a.call("POST", "/v1/organizations", {{"name", "late"}});
  auto [s2, after] = b.call("GET", "/v1/organizations");
  EXPECT_EQ(after["items"].size(), before["items"].size() + 1);
}

TEST_F(TwoServers, ATokenRevokedThroughOneIsRefusedByTheOtherAtOnce) {
  for (int i = 0; i < 10; ++i) {
    auto [created, token] = a.call("POST", "/v1/tokens", {{"role", "operator"}, {"subject", "op@vendor.example"}});
    ASSERT_EQ(created, 201) << token.dump();
    // B knows the token (and may keep it verified)…
    ASSERT_EQ(b.call_as(token["token"], "GET", "/v1/environments").first, 200);
    ASSERT_EQ(b.call_as(token["token"], "GET", "/v1/environments").first, 200);
    auto [deleted, _] = a.call("DELETE", "/v1/tokens/" + token["id"].get<std::string>());
    ASSERT_EQ(deleted, 204);
    // …and refuses it on the very next request.
    EXPECT_EQ(b.call_as(token["token"], "GET", "/v1/environments").first, 401) << "round " << i;
  }
}

TEST_F(TwoServers, AServerKilledWhileProvisioningIsTakenOverOnceItsLeaseRunsOut) {
  auto [status, op] = a.call("POST", "/v1/environments", {{"name", "ha"}, {"cloud", "local"}, {"cidr", "10.30.0.0/16"}});
  ASSERT_EQ(status, 202) << op.dump();
  std::string env_id = a.call("GET", "/v1/environments/ha").second["id"];
  fs::path dir = cloud / env_id;
  // A has asked the cloud (recorded the action, started the agent): kill it there.
  ASSERT_TRUE(testing::eventually([&] { return fs::exists(dir / "agent.pid"); }, 30s));
  a.kill9();
  auto killed_at = Clock::now();
  std::string token = files::read(dir / "action-token");
  auto agent_pid = proc::read_pid_file(dir / "agent.pid");
  ASSERT_TRUE(agent_pid);
  // B reads A's writes: the operation is still running, A's lease held.
  auto [running_status, running] = b.call("GET", "/v1/operations/" + op["id"].get<std::string>());
  ASSERT_EQ(running_status, 200);
  ASSERT_EQ(running["status"], "running") << "A finished before it was killed: " << running.dump();
  ASSERT_EQ(sql("SELECT count(*) FROM leases WHERE key = 'environment/" + env_id + "'"), "1");

  json done = b.wait_operation(op["id"], 90s);
  auto took = Clock::now() - killed_at;
  std::printf("[ measured ] kill -9 of A -> B finished the create: %lld ms (lease %d s)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
              kLeaseSeconds);
  ASSERT_EQ(done["status"], "succeeded") << done.dump();
  // Not before A's lease ran out (it was renewed at most a moment before the kill).
  EXPECT_GE(took, std::chrono::seconds(kLeaseSeconds) - 1s);
  EXPECT_LT(took, std::chrono::seconds(kLeaseSeconds) + 20s);
  auto [env_status, env] = b.call("GET", "/v1/environments/ha");
  EXPECT_EQ(env["state"], "READY");
  // No second action: the cloud saw one token, the agent A started is the
  // only one, and one join token was ever issued.
  EXPECT_EQ(files::read(dir / "action-token"), token);
  EXPECT_EQ(proc::read_pid_file(dir / "agent.pid"), agent_pid);
  EXPECT_TRUE(proc::is_alive(*agent_pid));
  EXPECT_EQ(sql("SELECT count(*) FROM join_tokens WHERE environment_id = '" + env_id + "'"), "1");
  int agents = 0;
  for (const auto& p : e2e::processes_mentioning(dir))
    if (p.command.find(" agent ") != std::string::npos) ++agents;
  EXPECT_EQ(agents, 1);
  // The agent dials the plane: it joined (through B, A being dead) and syncs.
  EXPECT_TRUE(testing::eventually([&] {
    return b.call("GET", "/v1/environments/ha").second["conditions"][0]["status"] == true;
  }, 30s));
}

TEST_F(TwoServers, AnAgentWhoseServerDiesGetsAChangeThroughTheOtherWithinASecond) {
  auto [status, op] = a.call("POST", "/v1/environments", {{"name", "move"}, {"cloud", "local"}, {"cidr", "10.31.0.0/16"}});
  ASSERT_EQ(status, 202);
  std::string env_id = a.call("GET", "/v1/environments/move").second["id"];
  ASSERT_EQ(a.wait_operation(op["id"])["status"], "succeeded");
  // Which server holds the agent's long-poll? That one goes.
  std::string held_by;
  ASSERT_TRUE(testing::eventually([&] {
    held_by = sql("SELECT server_id FROM agent_sessions WHERE environment_id = '" + env_id + "'");
    return !held_by.empty();
  }, 30s));
  std::string a_id = json::parse(files::read(a.data_dir() / "server.json"))["id"];
  ServerProcess& dying = held_by == a_id ? a : b;
  ServerProcess& other = held_by == a_id ? b : a;
  fs::path desired = cloud / env_id / "desired.json";
  dying.kill9();

  auto changed_at = Clock::now();
  auto [svc_status, svc] = other.call("POST", "/v1/environments/move/services", {{"name", "s"}});
  ASSERT_EQ(svc_status, 202) << svc.dump();
  auto [env_status, env] = other.call("GET", "/v1/environments/move");
  int64_t revision = env["revision"];
  ASSERT_TRUE(testing::eventually([&] {
    auto text = files::read_if_exists(desired);
    return text && json::parse(*text, nullptr, false).value("revision", 0) >= revision;
  }, 10s));
  auto took = Clock::now() - changed_at;
  std::printf("[ measured ] change through the other server -> the agent has it: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  // And it syncs with the other server now.
  EXPECT_TRUE(testing::eventually([&] {
    std::string other_id = json::parse(files::read(other.data_dir() / "server.json"))["id"];
    return sql("SELECT server_id FROM agent_sessions WHERE environment_id = '" + env_id + "'") == other_id;
  }, 10s));
  EXPECT_EQ(other.wait_operation(svc["id"], 120s)["status"], "succeeded");
}

}  // namespace
}  // namespace byoc::test
