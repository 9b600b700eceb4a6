// The data-plane stack: the CloudFormation template byoc's management plane
// creates (and updates) in the customer's account through the onboarding
// role. It holds the network (VPC, a private and a public subnet per zone
// from network_plan.h, internet gateway, NAT gateways, route tables, an S3
// gateway endpoint), the EKS cluster (control-plane logs api / audit /
// authenticator kept in the customer's CloudWatch), a system node group and
// one node group per instance type (min 0, tainted for ClickHouse), the
// encrypted backup bucket, an internal NLB behind a PrivateLink endpoint
// service for service endpoints, and optionally the routes of a VPC peering.
//
// No IAM role: the cluster and node roles (and the peering accepter) are the
// customer's, made by the onboarding stack; this template takes their ARNs as
// the parameters ClusterRoleArn and NodeRoleArn, whose defaults are derived
// from `account`, `onboarding_role_name` and the fixed names and path of
// vendor_actions.h (arn:aws:iam::<account>:role/byoc/<role name>-EksCluster).
//
// Every resource byoc names starts with byoc- (so the onboarding policy's
// ARN fences fit) and every taggable one carries byoc=true. No security group
// admits anything from outside the VPC CIDR. The backup bucket outlives the
// stack (DeletionPolicy Retain) and its name carries the environment id, so
// an environment re-created under the same name gets a new one. The EKS
// control-plane log group (/aws/eks/<cluster>/cluster) is made by EKS itself,
// never expires, and is not the stack's: it outlives the stack, and a
// re-created cluster writes on into it.
//
// With `existing_vpc`, the network is the customer's: no VPC, subnet,
// gateway, NAT or route resources; the given subnet ids are used as they are.
// The customer tags that VPC and its subnets byoc=true (security groups are
// created in it, which the onboarding policy admits only in a byoc VPC).
//
// Pure renderer; bad options throw byoc::Error kInvalid naming the field.
// Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace byoc::aws {

enum class NatMode { kSingle, kPerZone };

struct ExistingVpc {
  std::string vpc_id;                        // vpc-…; empty: byoc builds the network
  std::vector<std::string> private_subnets;  // subnet-…, one per zone
  std::vector<std::string> public_subnets;   // optional
};

struct InfraOptions {
  std::string name;    // the environment: [a-z][a-z0-9-]*, at most 24 characters
  // byoc's id of the environment, lowercased: 4 to 16 of [a-z0-9]; names the
  // retained backup bucket so a re-created environment doesn't collide.
  std::string environment_id;
  std::string account;  // the customer's account (12 digits): the data-plane role ARNs
  std::string onboarding_role_name = "ByocManagementRole";  // OnboardingOptions::role_name
  std::string region;  // us-east-1
  std::string cidr;    // the VPC's (the existing VPC's, with existing_vpc)
  std::vector<std::string> zones;
  NatMode nat = NatMode::kPerZone;
  std::string eks_version = "1.31";
  // Who may reach the EKS API's public endpoint (the vendor's NAT
  // addresses); required unless private_api.
  std::vector<std::string> api_allowed_cidrs;
  bool private_api = false;
  ExistingVpc existing;
  // IAM principals (ARNs) allowed to connect to the endpoint service.
  std::vector<std::string> endpoint_principals;
  // Routes to a peer VPC (parameters PeerVpcCidr, PeeringConnectionId);
  // the accepter role is the onboarding stack's (its --peer-account).
  bool peering = false;
};

nlohmann::json render_infra_template(const InfraOptions& options);

// The names the stack gives its resources, for the driver to find them.
std::string infra_stack_name(const std::string& environment);    // byoc-<name>
std::string infra_cluster_name(const std::string& environment);  // byoc-<name>
// The output a stack whose node groups are the driver's carries (one made
// before has AWS::EKS::Nodegroup resources, which the driver retains before
// it updates the stack to this template).
inline constexpr const char* kNodeGroupsOutput = "NodeGroups";
// The stack parameter holding the cluster's creation version.
inline constexpr const char* kKubernetesVersionParameter = "KubernetesVersion";

}  // namespace byoc::aws
