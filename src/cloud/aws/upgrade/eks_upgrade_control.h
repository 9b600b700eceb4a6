// EksUpgradeControl: the upgrader's Amazon EKS calls (plan::upgrade::EksControl)
// over an aws::Client of Service::kEks, for one cluster — the real
// counterpart of the simulator's.
//
// CreateNodegroup needs more than the upgrader's request says: subnets, node
// role, AMI type, disk, taints, tags, capacity type, launch template. A
// replacement takes them from the group it replaces (a NodegroupTemplate,
// read from that group's DescribeNodegroup), which it finds by the
// upgrader's naming: "<old>-<major>-<minor>" of the request's version
// (Upgrader::capture_old_groups). The template is read once per group and
// kept: a failed attempt's retry finds it even if the old group changed.
//
// Errors: throttling that outlasted the client's retries (HTTP 429,
// ThrottlingException, TooManyRequestsException…) becomes
// plan::upgrade::Throttled. ResourceNotFoundException is nullopt from the
// Describe calls and success from DeleteNodegroup (already gone);
// ResourceInUseException from CreateNodegroup means a group of that name
// exists (an earlier attempt, maybe with another token): the upgrader
// observes it next. Anything else stays aws::AwsCallError / byoc::Error.
// Not thread-safe (neither is the client).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cloud/aws/client.h"
#include "plan/upgrade/eks_control.h"

namespace byoc::aws {

// What a replacement node group copies from the group it replaces.
struct NodegroupTemplate {
  std::vector<std::string> subnets;
  std::string nodeRole;
  std::string amiType;       // "" when the group left it to EKS
  std::string capacityType;  // ON_DEMAND, SPOT…; "" likewise
  std::optional<int> diskSize;      // absent with a launch template
  nlohmann::json taints = nlohmann::json::array();  // [{key, value, effect: NO_SCHEDULE…}]
  std::map<std::string, std::string> tags;          // without the reserved aws:* keys
  nlohmann::json launchTemplate;    // {id|name, version}, or null
  nlohmann::json remoteAccess;      // {ec2SshKey, sourceSecurityGroups}, or null
  nlohmann::json updateConfig;      // {maxUnavailable…}, or null
};

// The template of a DescribeNodegroup's `nodegroup`. Throws byoc::Error
// kInvalid "eks_nodegroup_custom_ami" for a group on a custom AMI (its
// launch template names the AMI: a new version needs a new image, which
// this adapter cannot choose).
NodegroupTemplate nodegroup_template_of(const nlohmann::json& nodegroup);

// CreateNodegroup's parameters for `request` on `cluster` from `source`.
nlohmann::json create_nodegroup_params(const std::string& cluster, const NodegroupTemplate& source,
                                       const plan::upgrade::CreateNodegroupRequest& request);

// The group a replacement named `replacement` for `version` replaces
// ("system-1-31", "1.31" → "system"); nullopt when the name is not of that form.
std::optional<std::string> replaced_nodegroup(const std::string& replacement, const std::string& version);

class EksUpgradeControl final : public plan::upgrade::EksControl {
 public:
  // `eks` (a client of Service::kEks) must outlive this.
  EksUpgradeControl(Client& eks, std::string cluster);

  plan::upgrade::Cluster describe_cluster() override;
  std::string update_cluster_version(const std::string& version, const std::string& clientRequestToken) override;
  std::vector<std::string> list_nodegroups() override;
  std::optional<plan::upgrade::Nodegroup> describe_nodegroup(const std::string& nodegroupName) override;
  void create_nodegroup(const plan::upgrade::CreateNodegroupRequest& request) override;
  void delete_nodegroup(const std::string& nodegroupName) override;
  std::optional<plan::upgrade::Addon> describe_addon(const std::string& addonName) override;
  void update_addon(const std::string& addonName, const std::string& addonVersion,
                    const std::string& clientRequestToken) override;

 private:
  // `operation` with `params` through the client, its errors mapped as above
  // (ResourceNotFoundException: nullopt).
  std::optional<nlohmann::json> call(const char* operation, const nlohmann::json& params);
  const NodegroupTemplate& template_for(const plan::upgrade::CreateNodegroupRequest& request);

  Client& eks_;
  std::string cluster_;
  std::map<std::string, NodegroupTemplate> templates_;  // by replaced group
};

}  // namespace byoc::aws
