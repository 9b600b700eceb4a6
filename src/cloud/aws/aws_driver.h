// The `aws` cloud: an environment is a CloudFormation stack (network, EKS,
// backup bucket, endpoint service) and EKS managed node groups in the
// customer's account, made through the onboarding role the customer deployed.
//
//   onboard / check_access  the ExternalId and role ARN shown; AssumeRole and
//                           the pre-flight (preflight.h) until they pass
//   observe                 DescribeStacks + DescribeStackEvents, read by
//                           observe_stack (the stack's spec digest tells an
//                           up-to-date stack), then whether the agent joined
//   create / update         CreateStack / UpdateStack with the recorded action's
//                           token as ClientRequestToken: a repeat after a crash
//                           is the same request, never a second stack; an
//                           update keeps the KubernetesVersion parameter's
//                           value (the upgrader owns the cluster's version)
//   (then the node groups)  once the stack is complete, through the EKS API
//                           (driver/node_groups.h: by role, not name, so the
//                           upgrader's replacements are the same groups);
//                           a stack that still names them (made before) has
//                           them retained first, then dropped from it
//   (then the agent)        once the system nodes are there: DescribeCluster, an EKS
//                           token, and the agent's objects applied server-side
//                           (kube/agent_objects.h) — audited; the Deployment
//                           names the action's token, so observe tells an
//                           installed agent (and its image) apart
//   remove                  every node group deleted and gone first (one that
//                           can't be is said on the environment), then
//                           DeleteStack (level-triggered until it is gone)
//   cluster_upgrade_clients the Kubernetes upgrader's EKS and cluster clients
//                           (aws/upgrade/cluster_upgrade_clients.h), as the role
//
// Every call runs as the onboarding role, assumed with the environment's
// ExternalId under a session named after the action (the customer's
// CloudTrail shows which byoc action did what). Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "cloud/aws/driver/driver_options.h"
#include "cloud/driver.h"

namespace byoc::kube {
class Client;
}

namespace byoc::aws {

class Session;
class Client;
class NodeGroupControl;
class CredentialsProvider;
enum class Service;

class AwsDriver final : public cloud::CloudDriver {
 public:
  explicit AwsDriver(AwsDriverOptions options);
  ~AwsDriver() override;

  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override;
  void onboard(model::Environment& environment) const override;
  cloud::AccessCheck check_access(const model::Environment& environment) override;
  cloud::Observation observe(const model::Environment& environment) override;
  std::string create(const model::Environment& environment, const std::string& token) override;
  void update(const model::Environment& environment, const std::string& token) override;
  void remove(const model::Environment& environment, const std::string& token) override;
  std::unique_ptr<cloud::ClusterUpgradeClients> cluster_upgrade_clients(
      const model::Environment& environment) override;

 private:
  struct RoleSession;
  Session& session(const std::string& region);
  // The environment's onboarding role, assumed under a session named after its action.
  std::shared_ptr<CredentialsProvider> role(const model::Environment& environment);
  // A client of `service` acting as the environment's onboarding role.
  Client client(const model::Environment& environment, Service service);
  // A Kubernetes client of the environment's cluster, as the role.
  std::unique_ptr<kube::Client> cluster(const model::Environment& environment, const std::string& cluster_name);
  // With the stack complete: whether the agent is installed (and current).
  void observe_agent(const model::Environment& environment, cloud::Observation& observed);
  void install_agent(const model::Environment& environment, const std::string& token,
                     const std::string& cluster_name);
  std::string stack_ref(const model::Environment& environment) const;
  // The environment's node groups (driver/node_groups.h): observed into a
  // complete stack's observation; brought in line (true once they are, and
  // the agent may go in); observed while the environment goes (a group that
  // can't be deleted is said); deleted (true once none is left).
  NodeGroupControl node_groups(const model::Environment& environment, Client& eks, const std::string& cluster_name,
                               const std::string& action);
  void observe_node_groups(const model::Environment& environment, cloud::Observation& observed);
  bool keep_node_groups(const model::Environment& environment, const cloud::Observation& stack,
                        const std::string& token);
  void observe_node_groups_going(const model::Environment& environment, cloud::Observation& observed);
  bool remove_node_groups(const model::Environment& environment);
  bool retain_stack_node_groups(Client& cfn, const nlohmann::json& stack, const std::string& token);

  AwsDriverOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;  // by region
  std::map<std::string, std::shared_ptr<RoleSession>> roles_;  // by environment, role and session name
};

}  // namespace byoc::aws
