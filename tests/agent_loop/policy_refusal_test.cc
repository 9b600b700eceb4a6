// The customer policy outranks the management plane: an allowlist opening
// the endpoint to the internet is refused by the agent, the refusal is
// visible through the API by its code, and the endpoint keeps its last good
// allowlist — also after the agent restarts. Once the customer allows public
// endpoints, the next desired state goes through.
#include <gtest/gtest.h>

#include <memory>
#include <signal.h>

#include <map>
#include <thread>

#include "agent_loop_support.h"
#include "base/files.h"
#include "base/process.h"
#include "testing/testing.h"

namespace byoc::agent_loop {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// Modification times of the service's rendered configuration (not the copies
// ClickHouse preprocesses into its data dir).
std::map<std::string, fs::file_time_type> config_times(const fs::path& dir) {
  std::map<std::string, fs::file_time_type> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string path = it->path().string();
    std::string name = it->path().filename().string();
    if (path.find("preprocessed_configs") != std::string::npos || !it->is_regular_file()) continue;
    if (name.ends_with(".conf") || name == "config.xml" || name == "users.xml")
      out[path] = it->last_write_time();
  }
  return out;
}

json patch_allowlist(LocalEnvironment& env, const json& allowed) {
  auto [status, op] =
      env.server().call("PATCH", "/v1/environments/guarded/services/db", {{"allowed_ips", allowed}});
  EXPECT_EQ(status, 202) << op.dump();
  return env.server().wait_operation(op.value("id", ""), 120s);
}

TEST(AgentPolicy, APublicAllowlistIsRefusedAndTheLastGoodOneKeepsServing) {
  testing::TempDir scratch;
  auto owned = std::make_unique<LocalEnvironment>(scratch.path(), "guarded");
  LocalEnvironment& env = *owned;
  // The customer's file (no public endpoints is also the default).
  files::write_atomic(env.state_dir() / "policy.json", R"({"public_endpoint_allowed": false})", 0600);
  ServiceAccess db = env.create_service("db");
  ASSERT_EQ(query(db, "127.0.0.1"), 200);
  ASSERT_EQ(query(db, "127.0.0.2"), 403) << "the default allowlist admits 127.0.0.1 only";
  auto configs = config_times(env.state_dir() / "services" / "db");
  ASSERT_GE(configs.size(), 3u);

  json op = patch_allowlist(env, {"0.0.0.0/0"});
  EXPECT_EQ(op["status"], "failed") << op.dump();
  EXPECT_EQ(op["error"]["code"], "policy_violation") << op.dump();
  json svc = env.service("db");
  EXPECT_EQ(svc["state"], "READY") << svc.dump();
  EXPECT_EQ(svc["reason"], "policy_violation") << svc.dump();
  EXPECT_EQ(svc["allowed_ips"], json({"0.0.0.0/0"})) << "the desired state says so; the agent doesn't";
  EXPECT_EQ(query(db, "127.0.0.1"), 200);
  EXPECT_EQ(query(db, "127.0.0.2"), 403) << "0.0.0.0/0 must not be in force";
  EXPECT_EQ(config_times(env.state_dir() / "services" / "db"), configs) << "nothing was rewritten";
  EXPECT_NE(env.agent_log().find("service db: refused (policy_violation)"), std::string::npos)
      << env.agent_log();

  // A restarted agent runs the last accepted spec, not the refused desired state it has cached.
  auto old_pid = proc::read_pid_file(env.state_dir() / "agent.pid");
  ASSERT_TRUE(old_pid);
  ASSERT_EQ(::kill(*old_pid, SIGTERM), 0);
  ASSERT_TRUE(proc::wait_gone(*old_pid, 90s));
  // The environment controller starts it again.
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto pid = proc::read_pid_file(env.state_dir() / "agent.pid");
        return pid && *pid != *old_pid && proc::is_alive(*pid);
      },
      60s));
  EXPECT_TRUE(testing::eventually([&] { return query(db, "127.0.0.1") == 200; }, 90s)) << env.agent_log();
  EXPECT_EQ(query(db, "127.0.0.2"), 403);
  EXPECT_TRUE(testing::eventually(
      [&] {
        json s = env.service("db");
        return s["state"] == "READY" && s["reason"] == "policy_violation";
      },
      90s))
      << env.service("db").dump();

  // The customer opens public endpoints (any width): the next change is applied.
  files::write_atomic(env.state_dir() / "policy.json",
                      R"({"public_endpoint_allowed": true, "widest_allowlist_prefix_v4": 0})", 0600);
  op = patch_allowlist(env, {"0.0.0.0/0", "127.0.0.2/32"});
  EXPECT_EQ(op["status"], "succeeded") << op.dump() << env.agent_log();
  EXPECT_EQ(query(db, "127.0.0.2"), 200);
  EXPECT_EQ(env.service("db")["reason"], "");

  // Nothing this test started outlives it.
  owned.reset();
  EXPECT_TRUE(e2e::processes_mentioning(scratch.path()).empty())
      << e2e::describe(e2e::processes_mentioning(scratch.path()));
}

}  // namespace
}  // namespace byoc::agent_loop
