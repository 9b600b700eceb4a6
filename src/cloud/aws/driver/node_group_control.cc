#include "cloud/aws/driver/node_group_control.h"

#include "base/crypto.h"
#include "base/error.h"
#include "cloud/aws/upgrade/eks_upgrade_control.h"

namespace byoc::aws {
using nlohmann::json;

namespace {

bool gone(const AwsCallError& e) { return e.aws().code == "ResourceNotFoundException"; }

}  // namespace

std::string node_group_call_token(const std::string& token, const std::string& name) {
  // EKS takes a repeat with the same token as the same call: one per group.
  return crypto::sha256_hex(token + "/" + name).substr(0, 32);
}

NodeGroupControl::NodeGroupControl(Client& eks, std::string cluster, UpgradeCallRecorder record)
    : eks_(eks), cluster_(std::move(cluster)), record_(std::move(record)) {}

std::optional<std::vector<SeenNodeGroup>> NodeGroupControl::observe() {
  std::vector<std::string> names;
  try {
    names = EksUpgradeControl(eks_, cluster_).list_nodegroups();  // its pages
  } catch (const Error& e) {
    if (e.code() == "not_found") return std::nullopt;
    throw;
  }
  std::vector<SeenNodeGroup> out;
  for (const auto& name : names) {
    try {
      json answer = eks_.call("DescribeNodegroup", {{"clusterName", cluster_}, {"nodegroupName", name}});
      out.push_back(seen_node_group(answer.value("nodegroup", json::object())));
    } catch (const AwsCallError& e) {
      if (!gone(e)) throw;  // gone between the list and the look
    }
  }
  return out;
}

void NodeGroupControl::record(const char* call, const std::string& name, const std::string& token) {
  json event = {{"action", "node_groups"}, {"call", call}, {"node_group", name}};
  if (!token.empty()) event["token"] = token;
  if (record_) record_(event);
}

void NodeGroupControl::create(const NodeGroupSpec& spec, const std::vector<std::string>& subnets,
                              const std::string& node_role, const std::map<std::string, std::string>& tags,
                              const std::string& token) {
  json body = create_nodegroup_body(spec, subnets, node_role, tags, node_group_call_token(token, spec.name));
  body["clusterName"] = cluster_;
  record("create_nodegroup", spec.name, token);
  try {
    eks_.call("CreateNodegroup", body);
  } catch (const AwsCallError& e) {
    if (e.aws().code != "ResourceInUseException") throw;  // an earlier attempt's: observed next
  }
}

void NodeGroupControl::rescale(const std::string& name, const NodeGroupScaling& scaling, bool set_desired,
                               const std::string& token) {
  json size = {{"minSize", scaling.min}, {"maxSize", scaling.max}};
  if (set_desired) size["desiredSize"] = scaling.desired;
  record("update_nodegroup_config", name, token);
  try {
    eks_.call("UpdateNodegroupConfig", {{"clusterName", cluster_},
                                        {"nodegroupName", name},
                                        {"scalingConfig", size},
                                        {"clientRequestToken", node_group_call_token(token, name)}});
  } catch (const AwsCallError& e) {
    // The group (or its cluster) is busy with another change: the next look
    // sees it and asks again.
    if (e.aws().code != "ResourceInUseException") throw;
  }
}

void NodeGroupControl::remove(const std::string& name) {
  record("delete_nodegroup", name, "");
  try {
    eks_.call("DeleteNodegroup", {{"clusterName", cluster_}, {"nodegroupName", name}});
  } catch (const AwsCallError& e) {
    // Gone, or being deleted already: what was asked.
    if (!gone(e) && e.aws().code != "ResourceInUseException") throw;
  }
}

void NodeGroupControl::mark(const std::string& name, const std::string& arn, const std::string& token) {
  record("tag_resource", name, token);
  try {
    eks_.call("TagResource", {{"resourceArn", arn}, {"tags", {{kActionTag, token}}}});
  } catch (const AwsCallError& e) {
    if (!gone(e)) throw;  // deleted already: nothing to say of it
  }
}

}  // namespace byoc::aws
