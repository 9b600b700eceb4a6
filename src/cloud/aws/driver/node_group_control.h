// The EKS calls that keep an environment's node groups (node_groups.h) on
// one cluster, each change recorded (UpgradeCallRecorder: the environment's
// audit log) before it is sent. Not thread-safe (neither is the client).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cloud/aws/client.h"
#include "cloud/aws/driver/node_groups.h"
#include "cloud/aws/upgrade/audited_controls.h"

namespace byoc::aws {

class NodeGroupControl {
 public:
  // `eks` (a client of Service::kEks) must outlive this.
  NodeGroupControl(Client& eks, std::string cluster, UpgradeCallRecorder record);

  // Every group of the cluster, as described; nullopt when there is no cluster.
  std::optional<std::vector<SeenNodeGroup>> observe();
  // CreateNodegroup; a group of that name already there (an earlier attempt) is no error.
  void create(const NodeGroupSpec& spec, const std::vector<std::string>& subnets, const std::string& node_role,
              const std::map<std::string, std::string>& tags, const std::string& token);
  // UpdateNodegroupConfig of its range (and size, when `set_desired`); a
  // group busy with another update is no error (asked again next time).
  void rescale(const std::string& name, const NodeGroupScaling& scaling, bool set_desired, const std::string& token);
  // DeleteNodegroup; one gone or going already is no error.
  void remove(const std::string& name);
  // TagResource of the group (its ARN) with kActionTag = `token`, after a
  // failed group's delete was sent: failing again, it is this action's
  // failure. One gone already is no error.
  void mark(const std::string& name, const std::string& arn, const std::string& token);

 private:
  void record(const char* call, const std::string& name, const std::string& token);

  Client& eks_;
  std::string cluster_;
  UpgradeCallRecorder record_;
};

// The clientRequestToken of one group's call under an action's token.
std::string node_group_call_token(const std::string& token, const std::string& name);

}  // namespace byoc::aws
