// The data plane doesn't need the management plane: with the server killed
// for a minute every query through the service endpoint succeeds; once it is
// back the agent reconnects by itself, status flows again, nothing is applied
// twice, and its usage is stored exactly once per interval.
#include <gtest/gtest.h>

#include <memory>

#include <set>
#include <thread>

#include "agent_loop_support.h"
#include "testing/testing.h"

namespace byoc::agent_loop {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::set<pid_t> service_processes(const LocalEnvironment& env) {
  std::set<pid_t> out;
  for (const auto& p : e2e::processes_mentioning(env.state_dir() / "services")) out.insert(p.pid);
  return out;
}

json ledger(const LocalEnvironment& env) {
  return json::parse(e2e::read_text(env.state_dir() / "usage.json"), nullptr, false);
}

TEST(AgentAutonomy, ServesWithoutTheServerAndResumesWithoutDoubleCounting) {
  testing::TempDir scratch;
  auto owned = std::make_unique<LocalEnvironment>(scratch.path(), "autonomy");
  LocalEnvironment& env = *owned;
  auto before_create = Clock::now();
  ServiceAccess db = env.create_service("db");
  ASSERT_EQ(query(db), 200);
  // Usage reaches the server before the outage.
  ASSERT_TRUE(testing::eventually([&] { return env.usage().value("intervals", 0) > 0; }, 90s))
      << env.agent_log();
  int64_t stored_before_outage = env.usage()["intervals"];
  ASSERT_EQ(count(env.agent_log(), "service db: applying"), 1u) << env.agent_log();
  std::set<pid_t> processes = service_processes(env);
  ASSERT_GE(processes.size(), 2u) << "a replica and the endpoint";

  env.server().kill9();
  auto down_at = Clock::now();
  std::vector<std::string> failures;
  int queries = 0;
  while (Clock::now() - down_at < 60s) {
    auto next = Clock::now() + 500ms;
    int status = query(db, "", 2s);
    ++queries;
    if (status != 200) {
      auto at = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - down_at).count();
      failures.push_back("HTTP " + std::to_string(status) + " at " + std::to_string(at) + " ms");
    }
    std::this_thread::sleep_until(next);
  }
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  EXPECT_GE(queries, 100);
  EXPECT_NE(env.agent_log().find("sync failed"), std::string::npos) << "the agent should have noticed";
  json during = ledger(env);
  ASSERT_TRUE(during.is_object());
  EXPECT_FALSE(during["pending"].empty()) << "intervals cut meanwhile wait for the server";

  env.server().start();
  // The agent reconnects on its own (backoff ≤ 30 s, then one long-poll):
  // the server's totals become exactly the agent's totals of every interval it
  // ever cut, including those sent again after the answer was lost to the kill.
  json totals, agent_totals;
  bool exact = testing::eventually(
      [&] {
        json first = ledger(env);
        totals = env.usage();
        json second = ledger(env);
        if (!first.is_object() || !second.is_object() || first["totals"] != second["totals"]) return false;
        agent_totals = second["totals"];
        return totals == agent_totals && agent_totals["intervals"].get<int64_t>() > stored_before_outage;
      },
      150s);
  EXPECT_TRUE(exact) << "server " << totals.dump() << " agent " << agent_totals.dump() << "\n"
                     << env.agent_log();
  // Logged when the first answer arrives (the server may hold it ~30 s).
  EXPECT_TRUE(
      testing::eventually([&] { return env.agent_log().find("reachable again") != std::string::npos; }, 60s));
  EXPECT_TRUE(testing::eventually([&] { return env.agent_connected(); }, 60s));
  EXPECT_TRUE(testing::eventually(
      [&] {
        json svc = env.service("db");
        return svc["state"] == "READY" && svc["reason"] == "";
      },
      60s));

  // Nothing was applied twice: no second apply, no process restarted.
  EXPECT_EQ(count(env.agent_log(), "service db: applying"), 1u) << env.agent_log();
  EXPECT_EQ(service_processes(env), processes);

  // Status flows again: a change made now is applied and reported back.
  auto [status, op] =
      env.server().call("PATCH", "/v1/environments/autonomy/services/db", {{"allowed_ips", {"127.0.0.0/8"}}});
  ASSERT_EQ(status, 202) << op.dump();
  EXPECT_EQ(env.server().wait_operation(op["id"], 120s)["status"], "succeeded") << env.agent_log();
  EXPECT_EQ(query(db, "127.0.0.9"), 200) << "the new allowlist is in force";

  // Totals are allocation × running time: 1000 millicores and 2048 MiB per
  // second the replica ran, never more than it existed, at least the outage.
  json now = env.usage();
  double cpu_seconds = now["cpu_millis_seconds"].get<double>() / 1000;
  double memory_seconds = now["memory_mib_seconds"].get<double>() / 2048;
  double lifetime = std::chrono::duration<double>(Clock::now() - before_create).count();
  EXPECT_GE(cpu_seconds, 60);
  EXPECT_LE(cpu_seconds, lifetime + 1);
  EXPECT_NEAR(memory_seconds, cpu_seconds, now["intervals"].get<double>());

  // Nothing this test started outlives it.
  owned.reset();
  EXPECT_TRUE(e2e::processes_mentioning(scratch.path()).empty())
      << e2e::describe(e2e::processes_mentioning(scratch.path()));
}

}  // namespace
}  // namespace byoc::agent_loop
