// The fleet file: the documented example parses; each mistake names its field.
#include "plan/upgrade/fleet.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/error.h"

namespace byoc::plan::upgrade {
namespace {

using nlohmann::json;

json example() {
  std::ifstream in(std::string(BYOC_UPGRADE_TEST_DIR) + "/example_fleet.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

std::string field_of(const json& j) {
  try {
    fleet_from_json(j);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid) << e.what();
    return e.field();
  }
  return "(accepted)";
}

TEST(FleetJson, ExampleParses) {
  Fleet f = fleet_from_json(example());
  EXPECT_EQ(f.cluster_version, "1.30");
  EXPECT_EQ(f.target_version, "1.31");
  ASSERT_EQ(f.node_groups.size(), 2u);
  EXPECT_EQ(f.node_groups[0].nodes, 3);
  ASSERT_EQ(f.pods.size(), 8u);
  EXPECT_EQ(f.pods[0].shard, "0");
  EXPECT_EQ(f.pods[0].drain, std::chrono::minutes{20});
  EXPECT_FALSE(f.pods[6].clickhouse);
  EXPECT_EQ(f.pdbs[3].shard, "");
  EXPECT_EQ(f.windows.at("events").time_zone, "Europe/Berlin");
  EXPECT_EQ(f.eviction_timeout, std::chrono::minutes{60});
  EXPECT_EQ(f.max_run, std::chrono::days{28});
}

TEST(FleetJson, MistakesNameTheirField) {
  auto with = [](auto edit) {
    json j = example();
    edit(j);
    return field_of(j);
  };
  EXPECT_EQ(with([](json& j) { j["pods"][2]["node"] = "nowhere-0"; }), "pods[2].node");
  EXPECT_EQ(with([](json& j) { j["pods"][4]["service"] = "unwindowed"; }), "pods[4].service");
  EXPECT_EQ(with([](json& j) { j["pods"][1]["name"] = "orders-0-0"; }), "pods[1].name");
  EXPECT_EQ(with([](json& j) { j["pods"][1]["drain_minutes"] = 2000; }), "pods[1].drain_minutes");
  EXPECT_EQ(with([](json& j) { j["pods"][1]["kind"] = "daemon"; }), "pods[1].kind");
  EXPECT_EQ(with([](json& j) { j["node_groups"][0]["nodes"] = 451; }), "node_groups[0].nodes");
  EXPECT_EQ(with([](json& j) { j["node_groups"][1]["version"] = "1.31"; }), "node_groups[1].version");
  EXPECT_EQ(with([](json& j) { j["node_groups"][1]["version"] = "1.26"; }), "node_groups[1].version");
  EXPECT_EQ(with([](json& j) { j["node_groups"][1]["name"] = "ch-m6i"; }), "node_groups[1].name");
  EXPECT_EQ(with([](json& j) { j["node_groups"][0]["colour"] = "red"; }), "node_groups[0].colour");
  EXPECT_EQ(with([](json& j) { j["cluster"]["target_version"] = "1.29"; }), "cluster.target_version");
  EXPECT_EQ(with([](json& j) { j["cluster"]["version"] = "one.thirty"; }), "cluster.version");
  EXPECT_EQ(with([](json& j) { j["start"] = "yesterday"; }), "start");
  EXPECT_EQ(with([](json& j) { j["windows"]["orders"]["time_zone"] = "Mars/Olympus"; }), "windows.orders.time_zone");
  EXPECT_EQ(with([](json& j) { j["pdbs"][0]["max_unavailable"] = -1; }), "pdbs[0].max_unavailable");
  EXPECT_EQ(with([](json& j) { j["addons"][1]["name"] = "vpc-cni"; }), "addons[1].name");
  EXPECT_EQ(with([](json& j) { j["faults"] = {{"stuck_pods", {"ghost"}}}; }), "faults.stuck_pods[0]");
  EXPECT_EQ(with([](json& j) { j["faults"] = {{"create_failures", {{"nope", 1}}}}; }), "faults.create_failures.nope");
  EXPECT_EQ(with([](json& j) { j["faults"] = {{"throttle_percent", 90}}; }), "faults.throttle_percent");
  EXPECT_EQ(with([](json& j) { j["max_run_days"] = 0; }), "max_run_days");
  EXPECT_EQ(with([](json& j) { j.erase("node_groups"); }), "node_groups");
}

TEST(FleetJson, ListsAreBounded) {
  json j = example();
  for (int i = 0; i < 6; ++i) {
    j["pods"].push_back({{"name", "extra-" + std::to_string(i)}, {"service", "orders"}, {"shard", 0},
                         {"node", "ch-m6i-0"}});
  }
  EXPECT_EQ(field_of(j), "pdbs[0]");  // a budget over more than 6 pods
  auto groups_of = [](int groups, int nodes) {
    json j = example();
    j["node_groups"] = json::array();
    for (int i = 0; i < groups; ++i) {
      j["node_groups"].push_back({{"name", "g" + std::to_string(i)}, {"version", "1.30"}, {"nodes", nodes},
                                  {"instance_type", "m6i.large"}});
    }
    j["pods"] = json::array();
    return j;
  };
  EXPECT_EQ(field_of(groups_of(65, 1)), "node_groups");
  json nodes = groups_of(3, 400);
  EXPECT_EQ(field_of(nodes), "node_groups[2].nodes");
}

}  // namespace
}  // namespace byoc::plan::upgrade
