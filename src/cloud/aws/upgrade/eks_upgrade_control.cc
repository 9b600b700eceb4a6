#include "cloud/aws/upgrade/eks_upgrade_control.h"

#include <algorithm>

#include "base/error.h"
#include "cloud/aws/retry.h"

namespace byoc::aws {
namespace {

using nlohmann::json;
namespace up = plan::upgrade;

// ListNodegroups pages (100 groups each by default) before giving up: far
// more than EKS's quota of node groups per cluster.
constexpr int kMaxNodegroupPages = 50;

// Retried by the client like throttling, but an account limit: not for later.
bool is_throttled(const AwsError& e) {
  return e.status == 429 || (is_throttling_error(e.code) && e.code != "LimitExceededException");
}

// Answers are read as the client parsed them: of the model's shape (each
// member of its type, or absent), so value() never meets a wrong type.
template <class T>
T value_of(const json& object, const char* key) {
  return object.is_object() ? object.value(key, T{}) : T{};
}

// `object`'s members named in `keys` that it has.
json members_set(const json& object, std::initializer_list<const char*> keys) {
  json out = json::object();
  for (const char* key : keys)
    if (object.contains(key) && !object[key].is_null()) out[key] = object[key];
  return out;
}

using Strings = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;

up::Nodegroup nodegroup_of(const json& g) {
  return {value_of<std::string>(g, "nodegroupName"), value_of<std::string>(g, "version"),
          value_of<std::string>(g, "status"),        value_of<Strings>(g, "instanceTypes"),
          value_of<int>(value_of<json>(g, "scalingConfig"), "desiredSize"), value_of<StringMap>(g, "labels")};
}

}  // namespace

NodegroupTemplate nodegroup_template_of(const json& nodegroup) {
  NodegroupTemplate t;
  t.subnets = value_of<Strings>(nodegroup, "subnets");
  t.nodeRole = value_of<std::string>(nodegroup, "nodeRole");
  t.amiType = value_of<std::string>(nodegroup, "amiType");
  if (t.amiType == "CUSTOM")
    throw Error::Invalid("eks_nodegroup_custom_ami",
                         "node group " + value_of<std::string>(nodegroup, "nodegroupName") +
                             " runs a custom AMI from its launch template: its replacement needs a new image");
  t.capacityType = value_of<std::string>(nodegroup, "capacityType");
  if (nodegroup.contains("diskSize")) t.diskSize = value_of<int>(nodegroup, "diskSize");
  for (const json& taint : value_of<json>(nodegroup, "taints")) t.taints.push_back(members_set(taint, {"key", "value", "effect"}));
  // EKS refuses the keys AWS reserves (CloudFormation tags its resources with aws:cloudformation:*).
  for (auto& [key, value] : value_of<StringMap>(nodegroup, "tags"))
    if (!key.starts_with("aws:")) t.tags[key] = value;
  if (nodegroup.contains("launchTemplate")) {
    const json& launch = nodegroup["launchTemplate"];
    // One of id and name, not both (CreateNodegroup's LaunchTemplateSpecification).
    t.launchTemplate = launch.contains("id") ? members_set(launch, {"id", "version"}) : members_set(launch, {"name", "version"});
  }
  if (nodegroup.contains("remoteAccess"))
    t.remoteAccess = members_set(nodegroup["remoteAccess"], {"ec2SshKey", "sourceSecurityGroups"});
  if (nodegroup.contains("updateConfig"))
    t.updateConfig = members_set(nodegroup["updateConfig"], {"maxUnavailable", "maxUnavailablePercentage"});
  return t;
}

json create_nodegroup_params(const std::string& cluster, const NodegroupTemplate& source,
                             const up::CreateNodegroupRequest& request) {
  json params = {{"clusterName", cluster},
                 {"nodegroupName", request.nodegroupName},
                 {"version", request.version},
                 // EKS takes no maxSize under 1 (a ClickHouse group scaled to
                 // zero); the aws driver gives the group its range back after.
                 {"scalingConfig",
                  {{"minSize", request.desiredSize},
                   {"maxSize", std::max(request.desiredSize, 1)},
                   {"desiredSize", request.desiredSize}}},
                 {"subnets", source.subnets},
                 {"nodeRole", source.nodeRole},
                 {"labels", request.labels},
                 {"clientRequestToken", request.clientRequestToken}};
  if (!request.instanceTypes.empty()) params["instanceTypes"] = request.instanceTypes;
  if (!source.amiType.empty()) params["amiType"] = source.amiType;
  if (!source.capacityType.empty()) params["capacityType"] = source.capacityType;
  if (source.diskSize) params["diskSize"] = *source.diskSize;
  if (!source.taints.empty()) params["taints"] = source.taints;
  if (!source.tags.empty()) params["tags"] = source.tags;
  if (!source.launchTemplate.is_null()) params["launchTemplate"] = source.launchTemplate;
  if (!source.remoteAccess.is_null()) params["remoteAccess"] = source.remoteAccess;
  if (!source.updateConfig.is_null()) params["updateConfig"] = source.updateConfig;
  return params;
}

std::optional<std::string> replaced_nodegroup(const std::string& replacement, const std::string& version) {
  std::string suffix = "-" + version;
  std::replace(suffix.begin(), suffix.end(), '.', '-');
  if (replacement.size() <= suffix.size() || !replacement.ends_with(suffix)) return std::nullopt;
  return replacement.substr(0, replacement.size() - suffix.size());
}

EksUpgradeControl::EksUpgradeControl(Client& eks, std::string cluster) : eks_(eks), cluster_(std::move(cluster)) {}

std::optional<json> EksUpgradeControl::call(const char* operation, const json& params) {
  try {
    return eks_.call(operation, params);
  } catch (const AwsCallError& e) {
    if (is_throttled(e.aws())) throw up::Throttled(e.what());
    if (e.aws().code == "ResourceNotFoundException") return std::nullopt;
    throw;
  }
}

up::Cluster EksUpgradeControl::describe_cluster() {
  std::optional<json> answer = call("DescribeCluster", {{"name", cluster_}});
  if (!answer) throw Error::NotFound("EKS cluster " + cluster_ + " does not exist");
  const json c = value_of<json>(*answer, "cluster");
  return {value_of<std::string>(c, "name"), value_of<std::string>(c, "version"), value_of<std::string>(c, "status")};
}

std::string EksUpgradeControl::update_cluster_version(const std::string& version, const std::string& clientRequestToken) {
  std::optional<json> answer =
      call("UpdateClusterVersion", {{"name", cluster_}, {"version", version}, {"clientRequestToken", clientRequestToken}});
  if (!answer) throw Error::NotFound("EKS cluster " + cluster_ + " does not exist");
  return value_of<std::string>(value_of<json>(*answer, "update"), "id");
}

std::vector<std::string> EksUpgradeControl::list_nodegroups() {
  std::vector<std::string> names;
  json params = {{"clusterName", cluster_}};
  for (int page = 0; page < kMaxNodegroupPages; ++page) {
    std::optional<json> answer = call("ListNodegroups", params);
    if (!answer) throw Error::NotFound("EKS cluster " + cluster_ + " does not exist");
    for (std::string& name : value_of<Strings>(*answer, "nodegroups")) names.push_back(std::move(name));
    std::string next = value_of<std::string>(*answer, "nextToken");
    if (next.empty()) return names;
    params["nextToken"] = next;
  }
  throw Error::Unavailable("EKS ListNodegroups of " + cluster_ + ": more than " +
                           std::to_string(kMaxNodegroupPages) + " pages");
}

std::optional<up::Nodegroup> EksUpgradeControl::describe_nodegroup(const std::string& nodegroupName) {
  std::optional<json> answer = call("DescribeNodegroup", {{"clusterName", cluster_}, {"nodegroupName", nodegroupName}});
  if (!answer) return std::nullopt;
  return nodegroup_of(value_of<json>(*answer, "nodegroup"));
}

const NodegroupTemplate& EksUpgradeControl::template_for(const up::CreateNodegroupRequest& request) {
  std::optional<std::string> old = replaced_nodegroup(request.nodegroupName, request.version);
  if (!old)
    throw Error::Invalid("eks_replacement_name_invalid", "node group " + request.nodegroupName +
                                                             " is not named <old group>-<version> for " +
                                                             request.version);
  auto known = templates_.find(*old);
  if (known != templates_.end()) return known->second;
  std::optional<json> answer = call("DescribeNodegroup", {{"clusterName", cluster_}, {"nodegroupName", *old}});
  if (!answer)
    throw Error::NotFound("node group " + *old + ", which " + request.nodegroupName +
                          " replaces, is gone: nothing to copy its subnets and node role from");
  return templates_.emplace(*old, nodegroup_template_of(value_of<json>(*answer, "nodegroup"))).first->second;
}

void EksUpgradeControl::create_nodegroup(const up::CreateNodegroupRequest& request) {
  json params = create_nodegroup_params(cluster_, template_for(request), request);
  try {
    if (!call("CreateNodegroup", params)) throw Error::NotFound("EKS cluster " + cluster_ + " does not exist");
  } catch (const AwsCallError& e) {
    // A group of that name exists: an earlier attempt's, which the upgrader observes next.
    if (e.aws().code != "ResourceInUseException") throw;
  }
}

void EksUpgradeControl::delete_nodegroup(const std::string& nodegroupName) {
  // nullopt: already gone, which is what was asked.
  call("DeleteNodegroup", {{"clusterName", cluster_}, {"nodegroupName", nodegroupName}});
}

std::optional<up::Addon> EksUpgradeControl::describe_addon(const std::string& addonName) {
  std::optional<json> answer = call("DescribeAddon", {{"clusterName", cluster_}, {"addonName", addonName}});
  if (!answer) return std::nullopt;
  const json a = value_of<json>(*answer, "addon");
  return up::Addon{value_of<std::string>(a, "addonName"), value_of<std::string>(a, "addonVersion"),
                   value_of<std::string>(a, "status")};
}

void EksUpgradeControl::update_addon(const std::string& addonName, const std::string& addonVersion,
                                     const std::string& clientRequestToken) {
  std::optional<json> answer = call("UpdateAddon", {{"clusterName", cluster_},
                                                    {"addonName", addonName},
                                                    {"addonVersion", addonVersion},
                                                    {"clientRequestToken", clientRequestToken}});
  if (!answer) throw Error::NotFound("EKS add-on " + addonName + " is not installed on " + cluster_);
}

}  // namespace byoc::aws
