#include "cli/plan_command.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "testing/testing.h"

namespace byoc::cli {
namespace {

using nlohmann::json;

std::string write(const byoc::testing::TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = (dir.path() / name).string();
  std::ofstream(path) << text;
  return path;
}

json run(std::vector<std::string> args) {
  CLI::App app("byoc");
  std::ostringstream out;
  add_plan_commands(app, out);
  args.insert(args.begin(), "byoc");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return json::parse(out.str());
}

const char* kInput = R"({"mode": "packed", "zones": ["a", "b", "c"],
  "replicas": [
    {"id": "s0-r0", "service": "s", "shard": 0, "cpu_millis": 1000, "memory_mib": 4096},
    {"id": "s0-r1", "service": "s", "shard": 0, "cpu_millis": 1000, "memory_mib": 4096},
    {"id": "t0-r0", "service": "t", "shard": 0, "cpu_millis": 1000, "memory_mib": 4096},
    {"id": "t0-r1", "service": "t", "shard": 0, "cpu_millis": 1000, "memory_mib": 4096}]})";

TEST(PlanCommand, PlacesAndReplaces) {
  byoc::testing::TempDir dir;
  std::string input = write(dir, "in.json", kInput);
  json plan = run({"plan", "placement", "--input", input});
  EXPECT_EQ(plan["bound"]["kind"], "exact");
  EXPECT_GT(plan["cost_per_hour"].get<double>(), 0);
  int placed = 0;
  for (const auto& n : plan["nodes"]) placed += static_cast<int>(n["replicas"].size());
  EXPECT_EQ(placed, 4);
  EXPECT_FALSE(plan.contains("migrations"));

  std::string current = write(dir, "current.json", plan.dump());
  json smaller = json::parse(kInput);
  for (auto& r : smaller["replicas"]) r["cpu_millis"] = 400;
  std::string after = write(dir, "after.json", smaller.dump());
  json re = run({"plan", "placement", "--input", after, "--current", current, "--max-migrations", "4"});
  ASSERT_TRUE(re.contains("migrations"));
  EXPECT_LE(re["migrations"].size(), 4u);
  EXPECT_NEAR(re["saving_per_hour"].get<double>(),
              plan["cost_per_hour"].get<double>() - re["cost_per_hour"].get<double>(), 1e-6);
}

TEST(PlanCommand, BadInputThrowsWithTheField) {
  byoc::testing::TempDir dir;
  json bad = json::parse(kInput);
  bad["replicas"][2]["memory_mib"] = "lots";
  std::string input = write(dir, "bad.json", bad.dump());
  try {
    run({"plan", "placement", "--input", input});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "replicas[2].memory_mib");
  }
  try {
    run({"plan", "placement", "--input", write(dir, "broken.json", "{\"mode\":")});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "invalid_json");
    EXPECT_EQ(e.field(), "--input");
  }
  try {
    run({"plan", "placement", "--input", (dir.path() / "missing.json").string()});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "unreadable_file");
  }
  try {
    run({"plan", "placement", "--input", write(dir, "ok.json", kInput), "--max-migrations", "3"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "missing_current");
  }
  EXPECT_THROW(run({"plan", "placement"}), CLI::ParseError);
  EXPECT_THROW(run({"plan", "placement", "--input", "x", "--max-migrations", "-1"}), CLI::ParseError);
}

TEST(PlanWindowCommand, SaysWhereAnInstantStands) {
  byoc::testing::TempDir dir("byoc-plan-window");
  std::string window = write(dir, "window.json", R"({"time_zone":"America/Los_Angeles",
    "weekly":[{"days":["tue","thu"],"start":"01:00","duration_minutes":240}],
    "blackouts":[{"from":"2026-12-20","to":"2027-01-03"}]})");
  EXPECT_EQ(run({"plan", "window", "--window", window, "--at", "2026-12-08T11:00:00Z", "--drain-minutes", "120"}),
            json::parse(R"({"inside":true,"opens_at":"2026-12-08T09:00:00Z","closes_at":"2026-12-08T13:00:00Z",
                            "fits":true})"));
  EXPECT_EQ(run({"plan", "window", "--window", window, "--at", "2026-12-08T11:00:00Z", "--drain-minutes", "121"}),
            json::parse(R"({"inside":true,"opens_at":"2026-12-08T09:00:00Z","closes_at":"2026-12-08T13:00:00Z",
                            "fits":false})"));
  // An offset is accepted; outside, the next window (after the blackout) and no fit.
  EXPECT_EQ(run({"plan", "window", "--window", window, "--at", "2026-12-19T04:00:00-08:00"}),
            json::parse(R"({"inside":false,"opens_at":"2027-01-05T09:00:00Z","closes_at":"2027-01-05T13:00:00Z",
                            "fits":false})"));
}

TEST(PlanWindowCommand, BadInputThrowsWithTheField) {
  byoc::testing::TempDir dir("byoc-plan-window");
  std::string good = write(dir, "good.json", R"({"time_zone":"UTC","weekly":[{"days":["mon"],"start":"01:00",
    "duration_minutes":60}]})");
  auto error_of = [](const std::vector<std::string>& args) -> std::pair<std::string, std::string> {
    try {
      run(args);
    } catch (const Error& e) {
      return {e.code(), e.field()};
    }
    return {"accepted", ""};
  };
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(error_of({"plan", "window", "--window", good, "--at", "tomorrow"}), P("invalid_time", "at"));
  EXPECT_EQ(error_of({"plan", "window", "--window", good, "--at", "2026-12-32T00:00:00Z"}), P("invalid_time", "at"));
  EXPECT_EQ(error_of({"plan", "window", "--window", write(dir, "zone.json", R"({"time_zone":"Nowhere/City",
    "weekly":[{"days":["mon"],"start":"01:00","duration_minutes":60}]})"), "--at", "2026-12-08T00:00:00Z"}),
            P("unknown_time_zone", "time_zone"));
  EXPECT_EQ(error_of({"plan", "window", "--window", write(dir, "broken.json", "{"), "--at", "2026-12-08T00:00:00Z"}),
            P("invalid_json", "--window"));
  EXPECT_THROW(run({"plan", "window", "--window", good}), CLI::ParseError);
  EXPECT_THROW(run({"plan", "window", "--window", good, "--at", "2026-12-08T00:00:00Z", "--drain-minutes", "-5"}),
               CLI::ParseError);
}

}  // namespace
}  // namespace byoc::cli
