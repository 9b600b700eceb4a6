// The server's half of the telemetry allowlist: a report carrying query
// text, rows or free text is rejected whole (422) and logged, with the
// agent's own certificate, while the agent itself keeps syncing.
#include <gtest/gtest.h>

#include <memory>

#include "agent_loop_support.h"
#include "base/files.h"
#include "base/http_client.h"
#include "testing/testing.h"

namespace byoc::agent_loop {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

json report() {
  return {{"protocol_version", 1},
          {"known_revision", 0},
          {"seq", 1},
          {"status", {{"applied_revision", 0}, {"services", json::array()}, {"environment_ca_pem", ""}}},
          {"usage", json::array()}};
}

json service_entry() {
  return {{"name", "db"},
          {"state", "READY"},
          {"reason", ""},
          {"endpoint", "https://127.0.0.1:4443"},
          {"replicas", json::array()}};
}

TEST(TelemetryAllowlist, AReportWithQueryTextRowsOrFreeTextIsRejected) {
  testing::TempDir scratch;
  auto owned = std::make_unique<LocalEnvironment>(scratch.path(), "telemetry");
  LocalEnvironment& env = *owned;
  fs::path dir = env.state_dir();
  http::Client agent(
      {files::read(dir / "server-ca.pem"), files::read(dir / "agent.pem"), files::read(dir / "agent.key")});
  json env_before = env.environment();

  struct Case {
    std::string name;
    json body;
    std::string field;
  };
  std::vector<Case> cases;
  json r = report();
  r["query"] = "SELECT card_number FROM customer.payments";
  cases.push_back({"query text", r, "query"});
  r = report();
  json with_rows = service_entry();
  with_rows["rows"] = json::array({json::array({1, "alice", "4111 1111 1111 1111"})});
  r["status"]["services"].push_back(with_rows);
  cases.push_back({"rows", r, "status.services[0].rows"});
  r = report();
  json chatty = service_entry();
  chatty["state"] = "FAILED";
  chatty["reason"] = "Code: 60. DB::Exception: Table customer.payments doesn't exist";
  r["status"]["services"].push_back(chatty);
  cases.push_back({"free-text reason", r, "status.services[0].reason"});
  r = report();
  r["usage"].push_back(
      {{"seq", 1}, {"service", "db"}, {"start", 1}, {"end", 2}, {"table", "customer.payments"}});
  cases.push_back({"usage with a table name", r, "usage[0].table"});

  for (const auto& c : cases) {
    http::Request req;
    req.method = "POST";
    req.url = env.server().url() + "/v1/agent/sync";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = c.body.dump();
    http::Response res = agent.send(req);
    EXPECT_EQ(res.status, 422) << c.name << ": " << res.body;
    json err = json::parse(res.body, nullptr, false);
    EXPECT_EQ(err["error"]["field"], c.field) << c.name << ": " << res.body;
  }

  // Each rejection is logged with its code and field, never with the content.
  fs::path log = scratch.path() / "server-1.err";
  std::string needle = "rejected a sync report from environment " + env.id();
  EXPECT_TRUE(testing::eventually([&] { return count(e2e::read_text(log), needle) == cases.size(); }, 10s))
      << e2e::read_text(log);
  EXPECT_EQ(e2e::read_text(log).find("customer.payments"), std::string::npos);
  EXPECT_EQ(e2e::read_text(log).find("alice"), std::string::npos);

  // Nothing of them was recorded; the agent's own reports still go through.
  json env_after = env.environment();
  EXPECT_EQ(env_after["applied_revision"], env_before["applied_revision"]);
  auto [status, services] = env.server().call("GET", "/v1/environments/telemetry/services");
  EXPECT_TRUE(services["items"].empty()) << services.dump();
  EXPECT_TRUE(env.agent_connected());
  EXPECT_EQ(env.agent_log().find("sync failed"), std::string::npos) << env.agent_log();

  // Nothing this test started outlives it.
  owned.reset();
  EXPECT_TRUE(e2e::processes_mentioning(scratch.path()).empty())
      << e2e::describe(e2e::processes_mentioning(scratch.path()));
}

}  // namespace
}  // namespace byoc::agent_loop
