// The EKS managed node groups of an aws environment, kept by the driver
// through the EKS API rather than by the environment's stack (pure: what the
// groups should be, what a DescribeNodegroup says, and what to do about the
// difference).
//
// Why not the stack: the Kubernetes upgrader replaces node groups (a new
// group per old one, the old one deleted), so a stack that named the groups
// would update groups that are gone. Here a group is known by what it is
// for — its labels `byoc.io/role` (system | clickhouse) and, for ClickHouse,
// `byoc.io/instance-type` — never by its name, so the upgrader's
// replacements are the same groups to the driver. The rules:
//   - a role with no group is created (named as the stack named them:
//     "system", "m7gd-xlarge"), at the cluster's version;
//   - with one group, ACTIVE, its scaling limits are set to the spec's where
//     they differ (the upgrader's replacements are made min = max = their
//     old desired size; the driver gives them their range back);
//   - with two or more (an upgrade in progress) nothing is done to any;
//   - a failed group is said once per action, and the next action (a retry,
//     a change) deletes it to make it again;
//   - a ClickHouse group of a type no longer listed is deleted once it has no
//     node (whatever scales it has moved its pods away): deleting a group
//     with nodes would evict ClickHouse outside its maintenance window;
//   - the system group keeps the instance type it was made with (a new
//     first type would need a replacement, moving the agent, the endpoints
//     and ZooKeeper: not done for a change of the list);
//   - groups without a byoc role are not byoc's and are left alone (deleting
//     the environment deletes every group: EKS deletes no cluster with one).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace byoc::aws {

inline constexpr const char* kRoleLabel = "byoc.io/role";
inline constexpr const char* kInstanceTypeLabel = "byoc.io/instance-type";
// On a group the driver made: the token of the action that made it.
inline constexpr const char* kActionTag = "byoc-action";

struct NodeGroupScaling {
  int min = 0, max = 0, desired = 0;
  bool operator==(const NodeGroupScaling&) const = default;
};

// A group as it should be.
struct NodeGroupSpec {
  std::string key;   // "system" or "clickhouse/<instance type>"
  std::string name;  // for a creation
  std::string instance_type;
  NodeGroupScaling scaling;
  std::map<std::string, std::string> labels;
  nlohmann::json taints = nlohmann::json::array();  // EKS's [{key, value, effect}]
  std::string ami_type;
};

// The most nodes a node group scales to (the system group has 3).
inline constexpr int kMaxNodesPerGroup = 6;

// The groups for `instance_types` (the first also the system group's) with
// at most `max_nodes` nodes each.
std::vector<NodeGroupSpec> node_group_specs(const std::vector<std::string>& instance_types, int max_nodes);

// A group as DescribeNodegroup tells it.
struct SeenNodeGroup {
  std::string name, status, version;
  std::string key;  // "" for a group that is not byoc's
  std::vector<std::string> instance_types;
  NodeGroupScaling scaling;
  std::string health;  // its first health issue, "code: message", "" when none
  std::string action;  // its kActionTag: the token of the action that last acted on it
  std::string arn;
};

// From DescribeNodegroup's `nodegroup`.
SeenNodeGroup seen_node_group(const nlohmann::json& nodegroup);

struct NodeGroupPlan {
  std::vector<NodeGroupSpec> create;
  struct Rescale {
    std::string name;
    NodeGroupScaling scaling;
    bool set_desired = false;  // the current size is outside the new range
  };
  std::vector<Rescale> rescale;
  std::vector<std::string> remove;
  // Failed groups an earlier action left: marked with this action's token
  // and deleted (to be made again, or to be gone).
  std::vector<std::string> retry;
  // A group the spec needs is on its way (creating, updating, deleting):
  // not ready yet, nothing to send.
  bool waiting = false;
  // A byoc group that failed (CREATE_FAILED, DELETE_FAILED) under this
  // action, the only one of its role, or a group's name taken by one not
  // byoc's, and what is wrong: the first such.
  std::optional<std::pair<std::string, std::string>> failed;

  bool has_work() const { return !create.empty() || !rescale.empty() || !remove.empty() || !retry.empty(); }
};

// For the action `token` (a failed group is said once per action, then
// tried again by the next: a retry, a change).
NodeGroupPlan plan_node_groups(const std::vector<NodeGroupSpec>& specs, const std::vector<SeenNodeGroup>& seen,
                               const std::string& token);

// CreateNodegroup's body for `spec` (the cluster's version: none named).
nlohmann::json create_nodegroup_body(const NodeGroupSpec& spec, const std::vector<std::string>& subnets,
                                     const std::string& node_role, const std::map<std::string, std::string>& tags,
                                     const std::string& client_request_token);

}  // namespace byoc::aws
