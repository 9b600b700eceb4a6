// The node groups the aws driver keeps through the EKS API (pure): what they
// should be for an environment's instance types, how a DescribeNodegroup
// reads, and what is done about a cluster as found — including the cluster
// as the Kubernetes upgrader leaves it (replacements named otherwise, made
// min = max) and while it runs (two groups of one role).
#include <gtest/gtest.h>

#include "cloud/aws/driver/node_groups.h"
#include "plan/catalogue.h"
#include "plan/profiles.h"

namespace byoc::aws {
namespace {
using nlohmann::json;

const NodeGroupSpec* find_spec(const std::vector<NodeGroupSpec>& specs, const std::string& key) {
  for (const auto& s : specs)
    if (s.key == key) return &s;
  return nullptr;
}

// A group as found: ACTIVE, of `key`, as the driver would have made it.
SeenNodeGroup seen(const std::string& name, const std::string& key, NodeGroupScaling scaling,
                   const std::string& status = "ACTIVE") {
  SeenNodeGroup g;
  g.name = name;
  g.key = key;
  g.status = status;
  g.scaling = scaling;
  return g;
}

const std::vector<std::string> kTypes = {"m7gd.xlarge", "r6i.2xlarge"};

TEST(NodeGroups, OneSystemGroupAndOneTaintedGroupPerTypeFromZero) {
  auto specs = node_group_specs(kTypes, kMaxNodesPerGroup);
  ASSERT_EQ(specs.size(), 3u);
  const NodeGroupSpec* system = find_spec(specs, "system");
  ASSERT_NE(system, nullptr);
  // The first type; three nodes for the ZooKeeper ensemble, a member each.
  EXPECT_EQ(system->name, "system");
  EXPECT_EQ(system->instance_type, "m7gd.xlarge");
  EXPECT_EQ(system->scaling, (NodeGroupScaling{3, 6, 3}));
  EXPECT_EQ(system->labels.at(kRoleLabel), "system");
  EXPECT_TRUE(system->taints.empty());
  for (const auto& type : kTypes) {
    const NodeGroupSpec* g = find_spec(specs, "clickhouse/" + type);
    ASSERT_NE(g, nullptr) << type;
    EXPECT_EQ(g->scaling, (NodeGroupScaling{0, 6, 0})) << type;
    EXPECT_EQ(g->labels.at(kRoleLabel), "clickhouse");
    EXPECT_EQ(g->labels.at(kInstanceTypeLabel), type);
    EXPECT_EQ(g->taints, json::parse(R"([{"key":"byoc.io/clickhouse","value":"true","effect":"NO_SCHEDULE"}])"));
  }
  EXPECT_EQ(find_spec(specs, "clickhouse/m7gd.xlarge")->name, "m7gd-xlarge");
  // Graviton on ARM images, the rest x86.
  EXPECT_EQ(find_spec(specs, "clickhouse/m7gd.xlarge")->ami_type, "AL2023_ARM_64_STANDARD");
  EXPECT_EQ(find_spec(specs, "clickhouse/r6i.2xlarge")->ami_type, "AL2023_x86_64_STANDARD");
  EXPECT_TRUE(node_group_specs({}, kMaxNodesPerGroup).empty());
}

// A replica profile's node selector is what its type's group's nodes carry.
TEST(NodeGroups, AProfilesNodeSelectorIsWhatItsGroupsNodesCarry) {
  const std::vector<std::string> types = {"m7gd.large", "r7gd.xlarge"};
  auto specs = node_group_specs(types, kMaxNodesPerGroup);
  for (const auto& profile : plan::profiles_for(plan::Catalogue::builtin(), types, {})) {
    const NodeGroupSpec* g = find_spec(specs, "clickhouse/" + profile.instance_type);
    ASSERT_NE(g, nullptr) << profile.instance_type;
    for (const auto& [key, value] : profile.node_selector) {
      if (key == "node.kubernetes.io/instance-type") continue;  // the kubelet's own label
      ASSERT_TRUE(g->labels.count(key)) << profile.instance_type << " " << key;
      EXPECT_EQ(g->labels.at(key), value) << profile.instance_type << " " << key;
    }
  }
}

TEST(NodeGroups, ADescribeNodegroupReadsAsTheGroupItIsFor) {
  SeenNodeGroup g = seen_node_group(json::parse(R"({
    "nodegroupName": "m7gd-xlarge-1-32", "status": "CREATE_FAILED", "version": "1.32",
    "instanceTypes": ["m7gd.xlarge"],
    "scalingConfig": {"minSize": 0, "maxSize": 0, "desiredSize": 0},
    "labels": {"byoc.io/role": "clickhouse", "byoc.io/instance-type": "m7gd.xlarge"},
    "tags": {"byoc": "true", "byoc-action": "op-1-2"},
    "nodegroupArn": "arn:aws:eks:eu-west-1:123456789012:nodegroup/byoc-prod/m7gd-xlarge-1-32/0ac1",
    "health": {"issues": [{"code": "AsgInstanceLaunchFailures", "message": "no capacity", "resourceIds": []}]}})"));
  EXPECT_EQ(g.name, "m7gd-xlarge-1-32");
  EXPECT_EQ(g.key, "clickhouse/m7gd.xlarge");
  EXPECT_EQ(g.status, "CREATE_FAILED");
  EXPECT_EQ(g.version, "1.32");
  EXPECT_EQ(g.scaling, (NodeGroupScaling{0, 0, 0}));
  EXPECT_EQ(g.action, "op-1-2");
  EXPECT_EQ(g.arn, "arn:aws:eks:eu-west-1:123456789012:nodegroup/byoc-prod/m7gd-xlarge-1-32/0ac1");
  EXPECT_EQ(g.health, "AsgInstanceLaunchFailures: no capacity");
  EXPECT_EQ(seen_node_group(json::parse(R"({"nodegroupName":"system","labels":{"byoc.io/role":"system"}})")).key,
            "system");
  // Not byoc's: no role, or a ClickHouse role without its type.
  EXPECT_EQ(seen_node_group(json::parse(R"({"nodegroupName":"theirs","labels":{"team":"x"}})")).key, "");
  EXPECT_EQ(seen_node_group(json::parse(R"({"nodegroupName":"odd","labels":{"byoc.io/role":"clickhouse"}})")).key, "");
  EXPECT_EQ(seen_node_group(json::parse(R"({"nodegroupName":"bare"})")).key, "");
}

TEST(NodeGroups, AnEmptyClusterGetsEveryGroup) {
  auto specs = node_group_specs(kTypes, kMaxNodesPerGroup);
  NodeGroupPlan plan = plan_node_groups(specs, {}, "op-2");
  ASSERT_EQ(plan.create.size(), 3u);
  EXPECT_TRUE(plan.rescale.empty());
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_FALSE(plan.waiting);
  EXPECT_TRUE(plan.has_work());
  // A group not byoc's is no reason to do anything, nor in the way.
  plan = plan_node_groups(specs, {seen("theirs", "", {1, 1, 1})}, "op-2");
  EXPECT_EQ(plan.create.size(), 3u);
  EXPECT_TRUE(plan.remove.empty());
}

TEST(NodeGroups, GroupsAsAskedNeedNothingAndOnesOnTheirWayAreWaitedFor) {
  auto specs = node_group_specs(kTypes, kMaxNodesPerGroup);
  std::vector<SeenNodeGroup> cluster = {seen("system", "system", {3, 6, 3}),
                                        seen("m7gd-xlarge", "clickhouse/m7gd.xlarge", {0, 6, 2}),
                                        seen("r6i-2xlarge", "clickhouse/r6i.2xlarge", {0, 6, 0})};
  NodeGroupPlan plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_FALSE(plan.has_work());
  EXPECT_FALSE(plan.waiting);
  EXPECT_FALSE(plan.failed);
  cluster[2].status = "CREATING";
  plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_FALSE(plan.has_work());
  EXPECT_TRUE(plan.waiting);
}

// The upgrader's replacements are named otherwise and made min = max = the
// old group's nodes: the same groups to the driver, given their range back
// once they are alone; while two of a role stand, nothing is touched.
TEST(NodeGroups, TheUpgradersReplacementsAreTheSameGroupsAndGetTheirRangeBack) {
  auto specs = node_group_specs(kTypes, kMaxNodesPerGroup);
  std::vector<SeenNodeGroup> during = {seen("system", "system", {3, 6, 3}),
                                       seen("system-1-32", "system", {3, 3, 3}, "CREATING"),
                                       seen("m7gd-xlarge", "clickhouse/m7gd.xlarge", {0, 6, 2}),
                                       seen("m7gd-xlarge-1-32", "clickhouse/m7gd.xlarge", {2, 2, 2}),
                                       seen("r6i-2xlarge", "clickhouse/r6i.2xlarge", {0, 6, 0}),
                                       seen("r6i-2xlarge-1-32", "clickhouse/r6i.2xlarge", {0, 1, 0}, "CREATE_FAILED")};
  NodeGroupPlan plan = plan_node_groups(specs, during, "op-2");
  EXPECT_FALSE(plan.has_work());
  EXPECT_FALSE(plan.waiting) << "an upgrade may run for days: the environment stays READY";
  EXPECT_FALSE(plan.failed) << "a failed replacement is the upgrader's";

  std::vector<SeenNodeGroup> after = {seen("system-1-32", "system", {3, 3, 3}),
                                      seen("m7gd-xlarge-1-32", "clickhouse/m7gd.xlarge", {2, 2, 2}),
                                      seen("r6i-2xlarge-1-32", "clickhouse/r6i.2xlarge", {0, 1, 0})};
  plan = plan_node_groups(specs, after, "op-2");
  EXPECT_TRUE(plan.create.empty());
  ASSERT_EQ(plan.rescale.size(), 3u);
  std::map<std::string, NodeGroupScaling> to;
  for (const auto& r : plan.rescale) {
    to[r.name] = r.scaling;
    EXPECT_FALSE(r.set_desired) << r.name << ": its size is in the range, and whatever scales it keeps it";
  }
  EXPECT_EQ(to["system-1-32"], (NodeGroupScaling{3, 6, 3}));
  EXPECT_EQ(to["m7gd-xlarge-1-32"], (NodeGroupScaling{0, 6, 2})) << "its nodes stay";
  EXPECT_EQ(to["r6i-2xlarge-1-32"], (NodeGroupScaling{0, 6, 0}));
  // A size the new range leaves out is set into it.
  after[1].scaling = {8, 8, 8};
  plan = plan_node_groups(specs, after, "op-2");
  for (const auto& r : plan.rescale)
    if (r.name == "m7gd-xlarge-1-32") {
      EXPECT_TRUE(r.set_desired);
      EXPECT_EQ(r.scaling, (NodeGroupScaling{0, 6, 6}));
    }
}

TEST(NodeGroups, ADroppedTypesGroupGoesOnlyOnceItHasNoNode) {
  auto specs = node_group_specs({"m7gd.xlarge"}, kMaxNodesPerGroup);
  std::vector<SeenNodeGroup> cluster = {seen("system", "system", {3, 6, 3}),
                                        seen("m7gd-xlarge", "clickhouse/m7gd.xlarge", {0, 6, 0}),
                                        seen("r6i-2xlarge-1-32", "clickhouse/r6i.2xlarge", {0, 6, 2})};
  NodeGroupPlan plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_TRUE(plan.remove.empty()) << "two nodes of it may still run ClickHouse";
  EXPECT_FALSE(plan.has_work());
  cluster[2].scaling.desired = 0;
  plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_EQ(plan.remove, std::vector<std::string>{"r6i-2xlarge-1-32"});
  // Not while an upgrade of it runs (its old group and replacement both there).
  auto upgrading = cluster;
  upgrading.push_back(seen("r6i-2xlarge-1-32-1-33", "clickhouse/r6i.2xlarge", {0, 1, 0}, "CREATING"));
  EXPECT_TRUE(plan_node_groups(specs, upgrading, "op-2").remove.empty());
  // Added back while it goes: made again once its name is free.
  specs = node_group_specs(kTypes, kMaxNodesPerGroup);
  cluster[2] = seen("r6i-2xlarge", "clickhouse/r6i.2xlarge", {0, 6, 0}, "DELETING");
  plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.waiting);
  cluster.pop_back();
  plan = plan_node_groups(specs, cluster, "op-2");
  ASSERT_EQ(plan.create.size(), 1u);
  EXPECT_EQ(plan.create[0].name, "r6i-2xlarge");
}

TEST(NodeGroups, TheSystemGroupKeepsItsTypeWhenTheFirstTypeChanges) {
  auto specs = node_group_specs({"r6i.2xlarge", "m7gd.xlarge"}, kMaxNodesPerGroup);
  std::vector<SeenNodeGroup> cluster = {seen("system", "system", {3, 6, 3}),
                                        seen("m7gd-xlarge", "clickhouse/m7gd.xlarge", {0, 6, 0}),
                                        seen("r6i-2xlarge", "clickhouse/r6i.2xlarge", {0, 6, 0})};
  cluster[0].instance_types = {"m7gd.xlarge"};
  NodeGroupPlan plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_FALSE(plan.has_work());
}

// A group that failed under this action is said (once); the next action
// (a retry, a change) marks it as its own and deletes it, to make it again.
TEST(NodeGroups, AFailedGroupIsSaidOnceThenTriedAgainByTheNextAction) {
  auto specs = node_group_specs({"m7gd.xlarge"}, kMaxNodesPerGroup);
  std::vector<SeenNodeGroup> cluster = {seen("system", "system", {3, 6, 3}),
                                        seen("m7gd-xlarge", "clickhouse/m7gd.xlarge", {0, 6, 0}, "CREATE_FAILED")};
  cluster[1].health = "AsgInstanceLaunchFailures: no capacity";
  cluster[1].action = "op-2";
  NodeGroupPlan plan = plan_node_groups(specs, cluster, "op-2");
  ASSERT_TRUE(plan.failed);
  EXPECT_EQ(plan.failed->first, "m7gd-xlarge");
  EXPECT_EQ(plan.failed->second, "CREATE_FAILED (AsgInstanceLaunchFailures: no capacity)");
  EXPECT_FALSE(plan.has_work()) << "nothing is sent for it until a new action";

  plan = plan_node_groups(specs, cluster, "op-3");
  EXPECT_FALSE(plan.failed);
  EXPECT_EQ(plan.retry, std::vector<std::string>{"m7gd-xlarge"});
  EXPECT_TRUE(plan.create.empty()) << "made again once it is gone";
  // One that can't be deleted likewise; an upgrader's failed replacement
  // beside its old group is the upgrader's, never the driver's.
  cluster[1].status = "DELETE_FAILED";
  cluster[1].key = "clickhouse/r6i.2xlarge";
  EXPECT_EQ(plan_node_groups(specs, cluster, "op-3").retry, std::vector<std::string>{"m7gd-xlarge"});
  cluster[1] = seen("m7gd-xlarge-1-32", "clickhouse/m7gd.xlarge", {0, 0, 0}, "CREATE_FAILED");
  cluster.push_back(seen("m7gd-xlarge", "clickhouse/m7gd.xlarge", {0, 6, 0}));
  plan = plan_node_groups(specs, cluster, "op-3");
  EXPECT_TRUE(plan.retry.empty());
  EXPECT_FALSE(plan.failed);
}

TEST(NodeGroups, ANameTakenBySomeoneElsesGroupIsSaidNotTakenOver) {
  auto specs = node_group_specs({"m7gd.xlarge"}, kMaxNodesPerGroup);
  std::vector<SeenNodeGroup> cluster = {seen("system", "", {2, 2, 2}),
                                        seen("m7gd-xlarge", "clickhouse/m7gd.xlarge", {0, 6, 0})};
  NodeGroupPlan plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_TRUE(plan.create.empty());
  ASSERT_TRUE(plan.failed);
  EXPECT_EQ(plan.failed->first, "system");
  EXPECT_NE(plan.failed->second.find("not byoc's"), std::string::npos);
  cluster[0].status = "DELETING";  // going: waited for, then made
  plan = plan_node_groups(specs, cluster, "op-2");
  EXPECT_FALSE(plan.failed);
  EXPECT_TRUE(plan.waiting);
}

TEST(NodeGroups, TheCreateBodyIsEksCreateNodegroup) {
  auto specs = node_group_specs({"m7gd.xlarge"}, kMaxNodesPerGroup);
  json body = create_nodegroup_body(*find_spec(specs, "clickhouse/m7gd.xlarge"), {"subnet-1", "subnet-2"},
                                    "arn:aws:iam::123456789012:role/byoc/R-EksNode",
                                    {{"byoc", "true"}, {kActionTag, "op-1"}}, "t1");
  EXPECT_EQ(body["nodegroupName"], "m7gd-xlarge");
  EXPECT_EQ(body["scalingConfig"], json::parse(R"({"minSize":0,"maxSize":6,"desiredSize":0})"));
  EXPECT_EQ(body["subnets"], json::parse(R"(["subnet-1","subnet-2"])"));
  EXPECT_EQ(body["instanceTypes"], json::parse(R"(["m7gd.xlarge"])"));
  EXPECT_EQ(body["amiType"], "AL2023_ARM_64_STANDARD");
  EXPECT_EQ(body["nodeRole"], "arn:aws:iam::123456789012:role/byoc/R-EksNode");
  EXPECT_EQ(body["taints"][0]["effect"], "NO_SCHEDULE");
  EXPECT_EQ(body["tags"]["byoc"], "true");
  EXPECT_EQ(body["clientRequestToken"], "t1");
  EXPECT_FALSE(body.contains("version")) << "the cluster's own";
  EXPECT_FALSE(create_nodegroup_body(*find_spec(specs, "system"), {"s"}, "r", {}, "t").contains("taints"));
}

}  // namespace
}  // namespace byoc::aws
