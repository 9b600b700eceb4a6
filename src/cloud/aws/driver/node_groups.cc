#include "cloud/aws/driver/node_groups.h"

#include <algorithm>
#include <set>

#include "plan/profiles.h"

namespace byoc::aws {
using nlohmann::json;

namespace {

constexpr const char* kSystemRole = "system";
constexpr const char* kClickHouseRole = "clickhouse";
// The agent, the endpoints and a ZooKeeper member each on a node of its own.
constexpr int kSystemNodes = 3;

// "m6i.xlarge" → "m6i-xlarge".
std::string group_name(const std::string& instance_type) {
  std::string s = instance_type;
  std::replace(s.begin(), s.end(), '.', '-');
  return s;
}

// Graviton families carry a `g` after the generation digit (m7g, c7gn,
// r8g); GPU families start with one (g5) and are x86.
bool is_arm(const std::string& instance_type) {
  std::string family = instance_type.substr(0, instance_type.find('.'));
  size_t digit = family.find_first_of("0123456789");
  return digit != std::string::npos && family.find('g', digit) != std::string::npos;
}

std::string clickhouse_key(const std::string& instance_type) { return std::string(kClickHouseRole) + "/" + instance_type; }

NodeGroupSpec base_spec(const std::string& instance_type, int max_nodes) {
  NodeGroupSpec s;
  s.instance_type = instance_type;
  s.ami_type = is_arm(instance_type) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
  s.scaling.max = max_nodes;
  return s;
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

bool in_progress(const std::string& status) {
  return status == "CREATING" || status == "UPDATING" || status == "DELETING";
}

}  // namespace

std::vector<NodeGroupSpec> node_group_specs(const std::vector<std::string>& instance_types, int max_nodes) {
  std::vector<NodeGroupSpec> out;
  if (instance_types.empty()) return out;
  const std::string& system_type = instance_types.front();
  NodeGroupSpec system = base_spec(system_type, std::max(max_nodes, kSystemNodes));
  system.key = kSystemRole;
  system.name = kSystemRole;
  system.scaling.min = system.scaling.desired = kSystemNodes;
  system.labels = {{kRoleLabel, kSystemRole}, {kInstanceTypeLabel, system_type}};
  out.push_back(std::move(system));
  for (const auto& type : instance_types) {
    NodeGroupSpec s = base_spec(type, max_nodes);
    s.key = clickhouse_key(type);
    s.name = group_name(type);
    // What the profile of this type selects (plan/profiles.h), with the
    // kubelet's own node.kubernetes.io/instance-type.
    s.labels = {{kRoleLabel, kClickHouseRole},
                {kInstanceTypeLabel, type},
                {std::string(plan::kNodeGroupLabel), plan::node_group_name(type)}};
    s.taints = json::array({{{"key", "byoc.io/clickhouse"}, {"value", "true"}, {"effect", "NO_SCHEDULE"}}});
    out.push_back(std::move(s));
  }
  return out;
}

SeenNodeGroup seen_node_group(const json& g) {
  SeenNodeGroup s;
  s.name = text(g, "nodegroupName");
  s.status = text(g, "status");
  s.version = text(g, "version");
  for (const auto& t : g.value("instanceTypes", json::array()))
    if (t.is_string()) s.instance_types.push_back(t.get<std::string>());
  const json scaling = g.value("scalingConfig", json::object());
  s.scaling = {number(scaling, "minSize"), number(scaling, "maxSize"), number(scaling, "desiredSize")};
  s.arn = text(g, "nodegroupArn");
  const json labels = g.value("labels", json::object());
  const std::string role = labels.is_object() ? text(labels, kRoleLabel) : "";
  if (role == kSystemRole) s.key = kSystemRole;
  if (role == kClickHouseRole && !text(labels, kInstanceTypeLabel).empty())
    s.key = clickhouse_key(text(labels, kInstanceTypeLabel));
  const json tags = g.value("tags", json::object());
  if (tags.is_object()) s.action = text(tags, kActionTag);
  const json issues = g.value("health", json::object()).value("issues", json::array());
  if (!issues.empty() && issues[0].is_object()) s.health = text(issues[0], "code") + ": " + text(issues[0], "message");
  return s;
}

NodeGroupPlan plan_node_groups(const std::vector<NodeGroupSpec>& specs, const std::vector<SeenNodeGroup>& seen,
                               const std::string& token) {
  NodeGroupPlan plan;
  std::map<std::string, std::vector<const SeenNodeGroup*>> by_key;
  for (const auto& g : seen) {
    if (g.key.empty()) continue;  // not byoc's
    by_key[g.key].push_back(&g);
  }
  // A failed group is the driver's to report when it is its role's only
  // one: beside another, it is the upgrader's replacement, which the
  // upgrader deals with.
  std::set<std::string> retried;
  for (const auto& [key, groups] : by_key) {
    if (groups.size() != 1) continue;
    const SeenNodeGroup& g = *groups.front();
    if (g.status != "CREATE_FAILED" && g.status != "DELETE_FAILED") continue;
    if (g.action != token) {
      plan.retry.push_back(g.name);
      retried.insert(key);
    } else if (!plan.failed) {
      plan.failed = {g.name, g.health.empty() ? g.status : g.status + " (" + g.health + ")"};
    }
  }
  std::set<std::string> wanted;
  for (const auto& spec : specs) {
    wanted.insert(spec.key);
    const auto& groups = by_key[spec.key];
    if (retried.count(spec.key)) continue;  // made again once it is gone
    if (groups.empty()) {
      auto holder = std::find_if(seen.begin(), seen.end(), [&](const SeenNodeGroup& g) { return g.name == spec.name; });
      if (holder == seen.end()) {
        plan.create.push_back(spec);
      } else if (holder->key.empty() && holder->status != "DELETING") {
        // Someone else's group of that name: byoc won't take it over.
        if (!plan.failed)
          plan.failed = {spec.name, "the name is taken by a node group that is not byoc's (no byoc.io/role label)"};
      } else {
        plan.waiting = true;  // still on its way out
      }
      continue;
    }
    if (groups.size() > 1) continue;  // the upgrader's, mid-replacement
    const SeenNodeGroup& g = *groups.front();
    if (in_progress(g.status)) {
      plan.waiting = true;
      continue;
    }
    if (g.status != "ACTIVE" && g.status != "DEGRADED") continue;  // failed: said above
    if (g.scaling.min != spec.scaling.min || g.scaling.max != spec.scaling.max) {
      NodeGroupScaling to = spec.scaling;
      to.desired = std::clamp(g.scaling.desired, to.min, to.max);
      // The size is whatever scales the group's: sent only when the new
      // range leaves it out.
      plan.rescale.push_back({g.name, to, to.desired != g.scaling.desired});
    }
  }
  for (const auto& [key, groups] : by_key) {
    // Two of a role: an upgrade of it runs, the upgrader's to finish.
    if (wanted.count(key) || key == kSystemRole || groups.size() > 1) continue;
    for (const SeenNodeGroup* g : groups)
      if (g->status == "ACTIVE" && g->scaling.desired == 0) plan.remove.push_back(g->name);
  }
  return plan;
}

json create_nodegroup_body(const NodeGroupSpec& spec, const std::vector<std::string>& subnets,
                           const std::string& node_role, const std::map<std::string, std::string>& tags,
                           const std::string& client_request_token) {
  json body = {{"nodegroupName", spec.name},
               {"scalingConfig",
                {{"minSize", spec.scaling.min}, {"maxSize", spec.scaling.max}, {"desiredSize", spec.scaling.desired}}},
               {"subnets", subnets},
               {"instanceTypes", json::array({spec.instance_type})},
               {"amiType", spec.ami_type},
               {"capacityType", "ON_DEMAND"},
               {"nodeRole", node_role},
               {"labels", spec.labels},
               {"updateConfig", {{"maxUnavailable", 1}}},
               {"tags", tags},
               {"clientRequestToken", client_request_token}};
  if (!spec.taints.empty()) body["taints"] = spec.taints;
  return body;
}

}  // namespace byoc::aws
