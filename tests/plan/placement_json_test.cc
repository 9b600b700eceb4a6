#include "plan/placement_json.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace byoc::plan {
namespace {

using nlohmann::json;

json valid() {
  return json::parse(R"({
    "mode": "packed",
    "zones": ["us-east-1a", "us-east-1b"],
    "instance_types": ["m7gd.large", "m7gd.xlarge"],
    "allocatable": "karpenter",
    "daemonsets": {"cpu_millis": 100, "memory_mib": 256},
    "replicas": [
      {"id": "a0", "service": "a", "shard": 0, "cpu_millis": 900, "memory_mib": 3000},
      {"id": "a1", "service": "a", "shard": "0", "cpu_millis": 900, "memory_mib": 3000}
    ]
  })");
}

TEST(PlacementJson, ParsesTheDocumentedInput) {
  PlacementInput in = placement_input_from_json(valid());
  EXPECT_EQ(in.mode, PlacementMode::kPacked);
  EXPECT_EQ(in.zones.size(), 2u);
  EXPECT_EQ(in.instance_types, (std::vector<std::string>{"m7gd.large", "m7gd.xlarge"}));
  EXPECT_EQ(in.allocatable.mode, AllocatableMode::kKarpenter);
  EXPECT_EQ(in.allocatable.daemonsets, (Resources{100, 256}));
  ASSERT_EQ(in.replicas.size(), 2u);
  EXPECT_EQ(in.replicas[0].shard, "0");
  EXPECT_EQ(in.replicas[1].shard, "0");  // number and string name the same shard
  EXPECT_EQ(in.replicas[1].size, (Resources{900, 3000}));
}

TEST(PlacementJson, DefaultsAreAllTypesNominalNoDaemonSets) {
  json j = valid();
  j.erase("instance_types");
  j.erase("allocatable");
  j.erase("daemonsets");
  PlacementInput in = placement_input_from_json(j);
  EXPECT_TRUE(in.instance_types.empty());
  EXPECT_EQ(in.allocatable.mode, AllocatableMode::kNominal);
  EXPECT_EQ(in.allocatable.daemonsets, Resources{});
}

void expect_error(json j, const std::string& code, const std::string& field) {
  try {
    placement_input_from_json(j);
    FAIL() << "accepted " << j.dump();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_EQ(e.field(), field) << e.what();
  }
}

TEST(PlacementJson, BadInputNamesTheField) {
  json j = valid();
  j["replicas"][1]["cpu_millis"] = 0;
  expect_error(j, "out_of_range", "replicas[1].cpu_millis");
  j = valid();
  j["replicas"][0]["memory_mib"] = 1.5;
  expect_error(j, "invalid_type", "replicas[0].memory_mib");
  j = valid();
  j["replicas"][1]["id"] = "a0";
  expect_error(j, "duplicate_replica", "replicas[1].id");
  j = valid();
  j["replicas"][0].erase("shard");
  expect_error(j, "missing_field", "replicas[0].shard");
  j = valid();
  j["replicas"][0]["shard"] = -1;
  expect_error(j, "invalid_type", "replicas[0].shard");
  j = valid();
  j["replicas"][1]["cpus"] = 1;
  expect_error(j, "unknown_field", "replicas[1].cpus");
  j = valid();
  j["mode"] = "spread";
  expect_error(j, "invalid_mode", "mode");
  j = valid();
  j["zones"] = json::array();
  expect_error(j, "invalid_value", "zones");
  j = valid();
  j["zones"] = {"a", "a"};
  expect_error(j, "duplicate_value", "zones[1]");
  j = valid();
  j["allocatable"] = "measured";
  expect_error(j, "invalid_allocatable", "allocatable");
  j = valid();
  j["daemonsets"]["memory_mib"] = -5;
  expect_error(j, "out_of_range", "daemonsets.memory_mib");
  j = valid();
  j.erase("replicas");
  expect_error(j, "missing_field", "replicas");
  expect_error(json::array(), "invalid_type", "");
}

TEST(PlacementJson, CurrentPlanIsAPreviousOutput) {
  PlacementPlan plan;
  plan.cost_per_hour = 0.2136;
  plan.bound = CostBound{BoundKind::kGilmoreGomory, 0.2};
  plan.nodes = {PlannedNode{"m7gd.large", "us-east-1a", {"a0"}}, PlannedNode{"m7gd.large", "us-east-1b", {"a1"}}};
  plan.node_groups = {NodeGroupCount{"byoc-m7gd-large-us-east-1a", "m7gd.large", "us-east-1a", 1}};
  json out = to_json(plan);
  EXPECT_EQ(out["bound"]["kind"], "gilmore-gomory");
  EXPECT_FALSE(out.contains("migrations"));
  CurrentPlan current = current_plan_from_json(out);
  ASSERT_EQ(current.nodes.size(), 2u);
  EXPECT_EQ(current.nodes[1].zone, "us-east-1b");
  EXPECT_EQ(current.nodes[1].replicas, std::vector<std::string>{"a1"});

  out["nodes"][0].erase("type");
  try {
    current_plan_from_json(out);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "current.nodes[0].type");
  }
}

TEST(PlacementJson, ReplacementFields) {
  PlacementPlan plan;
  plan.migrations = std::vector<std::string>{"a", "b"};
  plan.saving_per_hour = 0.5;
  json out = to_json(plan);
  EXPECT_EQ(out["migrations"], json({"a", "b"}));
  EXPECT_DOUBLE_EQ(out["saving_per_hour"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(out["saving_per_hour_per_migration"].get<double>(), 0.25);
}

}  // namespace
}  // namespace byoc::plan
