// `byoc plan upgrade`: its JSON on the documented example, a crash and
// resume, and bad input.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/plan_command.h"
#include "testing/testing.h"

namespace byoc::cli {
namespace {

using nlohmann::json;

const std::string kExample = std::string(BYOC_UPGRADE_TEST_DIR) + "/example_fleet.json";

json run(std::vector<std::string> args) {
  CLI::App app("byoc");
  std::ostringstream out;
  add_plan_commands(app, out);
  args.insert(args.begin(), {"byoc", "plan", "upgrade"});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return json::parse(out.str());
}

TEST(PlanUpgradeCommand, PrintsEventsAndFigures) {
  json out = run({"--fleet", kExample});
  EXPECT_EQ(out.size(), 5u);
  ASSERT_TRUE(out["events"].is_array());
  int evictions = 0;
  for (const json& e : out["events"]) {
    ASSERT_TRUE(e["time"].is_string());
    EXPECT_EQ(e["time"].get<std::string>().back(), 'Z');
    if (e["action"] == "evict") {
      ++evictions;
      EXPECT_TRUE(e.contains("pod") && e.contains("node") && e.contains("node_group") && e.contains("service"));
    }
  }
  EXPECT_EQ(evictions, 8);
  EXPECT_EQ(out["events"].front()["action"], "update_control_plane");
  EXPECT_EQ(out["events"].back()["action"], "done");
  EXPECT_GE(out["wall_seconds"].get<int64_t>(), out["lower_bound_seconds"].get<int64_t>());
  EXPECT_GT(out["surge_node_hours"].get<double>(), 0);
  EXPECT_EQ(out["quarantined"], json::array());
}

TEST(PlanUpgradeCommand, CrashThenResumeEndsTheSame) {
  json whole = run({"--fleet", kExample, "--seed", "7"});
  json crashed = run({"--fleet", kExample, "--seed", "7", "--crash-at", "9"});
  std::vector<std::string> actions;
  for (const json& e : crashed["events"]) actions.push_back(e["action"]);
  auto crash = std::find(actions.begin(), actions.end(), "crash");
  ASSERT_NE(crash, actions.end());
  EXPECT_EQ(*(crash + 1), "resume");
  EXPECT_EQ(crashed["quarantined"], whole["quarantined"]);
  EXPECT_EQ(crashed["events"].back()["action"], "done");
}

TEST(PlanUpgradeCommand, BadFleetNamesTheField) {
  byoc::testing::TempDir dir;
  std::string path = (dir.path() / "fleet.json").string();
  std::ofstream(path) << R"({"start": "2026-12-08T00:00:00Z"})";
  try {
    run({"--fleet", path});
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "cluster");
  }
  EXPECT_THROW(run({"--fleet", (dir.path() / "missing.json").string()}), Error);
}

}  // namespace
}  // namespace byoc::cli
