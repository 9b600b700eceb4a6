// The data-plane stack: the CloudFormation template byoc's management plane
// creates (and updates) in the customer's account through the onboarding
// role. It holds the network (VPC, a private and a public subnet per zone
// from network_plan.h, internet gateway, NAT gateways, route tables, an S3
// gateway endpoint), the EKS cluster (control-plane logs api / audit /
// authenticator kept in the customer's CloudWatch), a system node group and
// one node group per instance type (min 0, tainted for ClickHouse), the IAM
// roles they run as, the encrypted backup bucket, an internal NLB behind a
// PrivateLink endpoint service for service endpoints, and optionally the
// accepter side of a VPC peering.
//
// Every resource byoc names starts with byoc- (so the onboarding policy's
// ARN fences fit) and every taggable one carries byoc=true. No security group
// admits anything from outside the VPC CIDR. The backup bucket and the EKS
// log group outlive the stack (DeletionPolicy Retain).
//
// With `existing_vpc`, the network is the customer's: no VPC, subnet,
// gateway, NAT or route resources; the given subnet ids are used as they are.
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
  std::vector<std::string> instance_types = {"m6i.xlarge"};
  int max_nodes_per_group = 6;
  // IAM principals (ARNs) allowed to connect to the endpoint service.
  std::vector<std::string> endpoint_principals;
  bool peering = false;
  std::string permissions_boundary;  // as given at onboarding, if any
};

nlohmann::json render_infra_template(const InfraOptions& options);

// The names the stack gives its resources, for the driver to find them.
std::string infra_stack_name(const std::string& environment);    // byoc-<name>
std::string infra_cluster_name(const std::string& environment);  // byoc-<name>

}  // namespace byoc::aws
