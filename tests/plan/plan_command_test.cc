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

}  // namespace
}  // namespace byoc::cli
