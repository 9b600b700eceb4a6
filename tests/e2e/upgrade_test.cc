// A version upgrade end to end on the real binaries: `byoc server`, its
// local environment's agent (whose versions.json lists a second name for the
// same ClickHouse binary with another config revision), a 1 × 2 replicated
// service. Published outside the service's window nothing moves; once the
// window is open the service is rolled replica by replica while a client
// querying every 100 ms through its endpoint sees no error.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <set>
#include <ctime>
#include <thread>

#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "cli_server_fixture.h"

namespace byoc::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// A weekly window in UTC opening at `opens` (Unix seconds) for `minutes`.
json utc_window(int64_t opens, int minutes) {
  static const char* days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::time_t t = opens;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char start[8];
  std::snprintf(start, sizeof start, "%02d:%02d", tm.tm_hour, tm.tm_min);
  return {{"time_zone", "UTC"},
          {"weekly", {{{"days", {days[tm.tm_wday]}}, {"start", start}, {"duration_minutes", minutes}}}}};
}

class UpgradeTest : public CliServerTest {
 protected:
  json upgrade_of(const std::string& service) {
    RunResult r = byoc({"upgrade", "status", "--env", "e1", "--service", service, "-o", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    json items = parse_json(r.out).value("items", json::array());
    return items.empty() ? json() : items.back();
  }

  void set_window(const json& window) {
    fs::path file = root_.path() / "window.json";
    files::write_atomic(file, window.dump(), 0600);
    RunResult r = byoc({"env", "maintenance", "set", "e1", "--window", file.string(), "--channel", "fast"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
};

TEST_F(UpgradeTest, NothingMovesOutsideTheWindowAndInsideItTheServiceServesThroughout) {
  login();
  RunResult env = byoc({"env", "create", "e1", "--cloud", "local", "--cidr", "10.1.0.0/16", "--wait", "-o", "json"});
  ASSERT_EQ(env.code, 0) << env.err;
  fs::path agent_dir = data_ / "environments" / parse_json(env.out).value("id", "");

  // The customer's side lists the second name; the agent reads it at start.
  files::write_atomic(agent_dir / "versions.json", R"({"clickhouse":{
      "18.16.1":{"binary":"/usr/sbin/clickhouse-server"},
      "18.16.1-r2":{"binary":"/usr/sbin/clickhouse-server","config_revision":"r2"}}})",
                      0600);
  pid_t first = std::stoi(read_text(agent_dir / "agent.pid"));
  ::kill(first, SIGTERM);
  ASSERT_TRUE(testing::eventually(
      [&] {
        std::string text = read_text(agent_dir / "agent.pid");
        return !text.empty() && std::stoi(text) != first && ::kill(std::stoi(text), 0) == 0;
      },
      90s))
      << "the environment's agent was not started again";

  RunResult svc = byoc({"service", "create", "s1", "--env", "e1", "--replicas", "2", "--wait", "--timeout", "240",
                        "-o", "json"});
  ASSERT_EQ(svc.code, 0) << svc.err;
  json service = parse_json(svc.out);
  std::string endpoint = service.value("endpoint", "");
  std::string password = service.value("password", "");
  std::string ca = env_json("e1").value("ca_pem", "");

  // Outside the window (it opens in six hours): the upgrade waits.
  int64_t now = std::time(nullptr);
  set_window(utc_window(now + 6 * 3600, 60));
  RunResult published = byoc({"version", "publish", "18.16.1-r2"});
  ASSERT_EQ(published.code, 0) << published.err;
  json upgrade;
  ASSERT_TRUE(testing::eventually([&] { return (upgrade = upgrade_of("s1")).is_object(); }, 60s));
  ASSERT_TRUE(testing::eventually([&] { return upgrade_of("s1").value("waiting_for", "") == "window"; }, 30s))
      << upgrade_of("s1").dump();
  std::this_thread::sleep_for(3s);  // a moment in which nothing may move
  EXPECT_EQ(upgrade_of("s1").value("state", ""), "pending");
  EXPECT_EQ(service_json("e1", "s1").value("clickhouse_version", ""), "18.16.1");
  // Which config revision answers (the endpoint picks either replica).
  auto revisions = [&] {
    std::set<std::string> seen;
    http::Client http(http::TlsOptions{.ca_pem = ca});
    for (int i = 0; i < 12; ++i) {
      http::Request request{.method = "POST", .url = endpoint + "/",
                            .body = "SELECT substitution FROM system.macros WHERE macro = 'config_revision'"};
      request.timeout = 5s;
      request.headers = {{"Authorization", basic("default", password)}};
      http::Response r = http.send(request);
      seen.insert(r.status == 200 ? r.body : "error " + std::to_string(r.status));
    }
    return seen;
  };
  EXPECT_EQ(revisions(), std::set<std::string>{""});

  // A client querying every 100 ms through the endpoint from now on.
  std::atomic<bool> stop{false};
  std::atomic<int> queries{0}, errors{0};
  std::string first_error;
  std::thread client([&] {
    http::Client http(http::TlsOptions{.ca_pem = ca});
    while (!stop) {
      http::Request request{.method = "POST", .url = endpoint + "/", .body = "SELECT 1"};
      request.timeout = 5s;
      request.headers = {{"Authorization", basic("default", password)}};
      try {
        http::Response r = http.send(request);
        if (r.status != 200 || r.body != "1\n") {
          if (errors++ == 0) first_error = std::to_string(r.status) + " " + r.body;
        }
      } catch (const std::exception& e) {
        if (errors++ == 0) first_error = e.what();
      }
      ++queries;
      std::this_thread::sleep_for(100ms);
    }
  });

  // The window opens (it began two minutes ago and lasts four hours).
  set_window(utc_window(std::time(nullptr) - 120, 240));
  bool done = testing::eventually(
      [&] {
        std::string state = upgrade_of("s1").value("state", "");
        return state == "succeeded" || state == "failed";
      },
      300s);
  stop = true;
  client.join();
  ASSERT_TRUE(done) << upgrade_of("s1").dump();
  json finished = upgrade_of("s1");
  EXPECT_EQ(finished.value("state", ""), "succeeded") << finished.dump();
  EXPECT_EQ(finished.value("replicas_done", 0), 2) << finished.dump();
  EXPECT_EQ(errors.load(), 0) << "of " << queries.load() << " queries; the first: " << first_error;
  EXPECT_GT(queries.load(), 20);
  json after = service_json("e1", "s1");
  EXPECT_EQ(after.value("clickhouse_version", ""), "18.16.1-r2");
  EXPECT_TRUE(testing::eventually([&] { return service_json("e1", "s1").value("state", "") == "READY"; }, 60s));
  EXPECT_EQ(revisions(), std::set<std::string>{"r2\n"});
}

}  // namespace
}  // namespace byoc::e2e
