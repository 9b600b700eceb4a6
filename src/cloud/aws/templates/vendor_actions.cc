#include "cloud/aws/templates/vendor_actions.h"

#include <set>

namespace byoc::aws {
namespace {

// ARN patterns (Fn::Sub syntax, resolved in the customer's account).
const std::string kStacks = "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:stack/byoc-*/*";
const std::string kClusters = "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/byoc-*";
const std::string kNodegroups = "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:nodegroup/byoc-*/*/*";
// addon/<cluster>/<add-on name>/<uuid>
const std::string kAddons = "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:addon/byoc-*/*/*";
// The onboarding role itself (RoleName is the onboarding template's parameter).
const std::string kOwnRole = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}";
// The data-plane roles the onboarding stack creates next to it.
const std::string kClusterRole = std::string("arn:${AWS::Partition}:iam::${AWS::AccountId}:role") +
                                 kDataPlaneRolePath + "${RoleName}" + kClusterRoleSuffix;
const std::string kNodeRole = std::string("arn:${AWS::Partition}:iam::${AWS::AccountId}:role") + kDataPlaneRolePath +
                              "${RoleName}" + kNodeRoleSuffix;
const std::string kServiceLinkedRoles = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*";
// The backup bucket: byoc-<environment>-<account>-<environment id>.
const std::string kBuckets = "arn:${AWS::Partition}:s3:::byoc-*-${AWS::AccountId}-*";
const std::string kLoadBalancers =
    "arn:${AWS::Partition}:elasticloadbalancing:*:${AWS::AccountId}:loadbalancer/net/byoc-*/*";

// An EC2 resource type's ARNs in this account.
std::string ec2(const std::string& type) { return "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:" + type + "/*"; }
// AWS's own endpoint services (the S3 gateway) live in no customer account.
const std::string kEndpointServices = "arn:${AWS::Partition}:ec2:*:*:vpc-endpoint-service/*";

std::vector<ResourceActions> build() {
  using G = Gate;
  return {
      {"byoc management plane",
       "stack",
       {{G::kNone,
         {"sts:GetCallerIdentity", "ec2:DescribeAvailabilityZones", "ec2:DescribeInstanceTypeOfferings",
          "ec2:DescribeVpcs", "ec2:DescribeSubnets", "servicequotas:GetServiceQuota",
          "servicequotas:GetAWSDefaultServiceQuota", "eks:ListClusters", "elasticloadbalancing:DescribeLoadBalancers"}},
        // GetTemplate: a stack from before the node groups left it has them
        // retained under its own template first (driver/aws_driver.cc).
        {G::kNone, {"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:GetTemplate"},
         {kStacks}},
        {G::kNone, {"eks:DescribeCluster"}, {kClusters}},
        // The pre-flight asks IAM what this very role may do.
        {G::kNone, {"iam:SimulatePrincipalPolicy", "iam:GetRole"}, {kOwnRole}}}},
      {"AWS::CloudFormation::Stack",
       "stack",
       {{G::kRequestTag, {"cloudformation:CreateStack"}, {kStacks}},
        {G::kResourceTag, {"cloudformation:UpdateStack", "cloudformation:DeleteStack"}, {kStacks}}}},
      // EC2 creates: the new resource's ARN type on the request's tags, every
      // existing resource the call names (its VPC, subnet, Elastic IP, route
      // tables) on that resource's byoc tag. With an existing VPC the customer
      // tags the VPC byoc=true so security groups may be made in it.
      {"AWS::EC2::VPC",
       "network",
       {{G::kRequestTag, {"ec2:CreateVpc"}, {ec2("vpc")}},
        {G::kResourceTag, {"ec2:ModifyVpcAttribute", "ec2:DeleteVpc"}},
        {G::kNone, {"ec2:DescribeVpcAttribute"}}}},
      {"AWS::EC2::Subnet",
       "network",
       {{G::kRequestTag, {"ec2:CreateSubnet"}, {ec2("subnet")}},
        {G::kResourceTag, {"ec2:CreateSubnet"}, {ec2("vpc")}},
        {G::kResourceTag, {"ec2:ModifySubnetAttribute", "ec2:DeleteSubnet"}}}},
      {"AWS::EC2::InternetGateway",
       "network",
       {{G::kRequestTag, {"ec2:CreateInternetGateway"}, {ec2("internet-gateway")}},
        {G::kResourceTag, {"ec2:DeleteInternetGateway"}},
        {G::kNone, {"ec2:DescribeInternetGateways"}}}},
      // Both the gateway and the VPC are byoc's.
      {"AWS::EC2::VPCGatewayAttachment",
       "network",
       {{G::kResourceTag, {"ec2:AttachInternetGateway", "ec2:DetachInternetGateway"}}}},
      {"AWS::EC2::EIP",
       "network",
       {{G::kRequestTag, {"ec2:AllocateAddress"}, {ec2("elastic-ip")}},
        {G::kResourceTag, {"ec2:ReleaseAddress"}},
        {G::kNone, {"ec2:DescribeAddresses"}}}},
      {"AWS::EC2::NatGateway",
       "network",
       {{G::kRequestTag, {"ec2:CreateNatGateway"}, {ec2("natgateway")}},
        {G::kResourceTag, {"ec2:CreateNatGateway"}, {ec2("subnet"), ec2("elastic-ip")}},
        {G::kResourceTag, {"ec2:DeleteNatGateway"}},
        {G::kNone, {"ec2:DescribeNatGateways"}}}},
      {"AWS::EC2::RouteTable",
       "network",
       {{G::kRequestTag, {"ec2:CreateRouteTable"}, {ec2("route-table")}},
        {G::kResourceTag, {"ec2:CreateRouteTable"}, {ec2("vpc")}},
        {G::kResourceTag, {"ec2:DeleteRouteTable"}},
        {G::kNone, {"ec2:DescribeRouteTables"}}}},
      // A route is part of its (byoc) route table.
      {"AWS::EC2::Route", "network", {{G::kResourceTag, {"ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"}}}},
      // The route table and the subnet are both byoc's.
      {"AWS::EC2::SubnetRouteTableAssociation",
       "network",
       {{G::kResourceTag, {"ec2:AssociateRouteTable", "ec2:DisassociateRouteTable"}}}},
      {"AWS::EC2::VPCEndpoint",
       "network",
       {{G::kRequestTag, {"ec2:CreateVpcEndpoint"}, {ec2("vpc-endpoint")}},
        {G::kResourceTag, {"ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint"}, {ec2("vpc"), ec2("route-table")}},
        {G::kNamed, {"ec2:CreateVpcEndpoint"}, {kEndpointServices}},
        {G::kResourceTag, {"ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints"}},
        {G::kNone, {"ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"}}}},
      {"AWS::EC2::SecurityGroup",
       "network",
       {{G::kRequestTag, {"ec2:CreateSecurityGroup"}, {ec2("security-group")}},
        {G::kResourceTag, {"ec2:CreateSecurityGroup"}, {ec2("vpc")}},
        {G::kResourceTag,
         {"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup"}},
        // The rules an authorize call makes are new resources of a byoc
        // group (which the grant above checks).
        {G::kNamed, {"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"},
         {ec2("security-group-rule")}},
        {G::kNone, {"ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"}}}},
      {"AWS::EC2::VPCEndpointService",
       "network",
       {{G::kRequestTag, {"ec2:CreateVpcEndpointServiceConfiguration"}, {ec2("vpc-endpoint-service")}},
        {G::kResourceTag,
         {"ec2:ModifyVpcEndpointServiceConfiguration", "ec2:DeleteVpcEndpointServiceConfigurations"}},
        {G::kNone, {"ec2:DescribeVpcEndpointServiceConfigurations"}}}},
      {"AWS::EC2::VPCEndpointServicePermissions",
       "network",
       {{G::kResourceTag, {"ec2:ModifyVpcEndpointServicePermissions"}},
        {G::kNone, {"ec2:DescribeVpcEndpointServicePermissions"}}}},
      {"EC2 tags",
       "network",
       {{G::kTagOnCreate, {"ec2:CreateTags"}}, {G::kTag, {"ec2:CreateTags"}}, {G::kUntag, {"ec2:DeleteTags"}}}},
      // The onboarding stack's roles: read and pass, nothing else.
      {"Data-plane IAM roles (onboarding stack)",
       "identity",
       {{G::kNone, {"iam:GetRole"}, {kClusterRole, kNodeRole}},
        {G::kPassRole, {"iam:PassRole"}, {kClusterRole}, {"eks.amazonaws.com"}},
        // EKS managed node groups are handed the node role (eks), which ends
        // up in the nodes' instance profile (ec2).
        {G::kPassRole, {"iam:PassRole"}, {kNodeRole}, {"eks.amazonaws.com", "ec2.amazonaws.com"}},
        {G::kServiceLinkedRole, {"iam:CreateServiceLinkedRole"}, {kServiceLinkedRoles}}}},
      {"AWS::EKS::Cluster",
       "cluster",
       {{G::kRequestTag, {"eks:CreateCluster"}, {kClusters}},
        // UpdateClusterConfig also governs logging: see the header.
        {G::kResourceTag, {"eks:DeleteCluster", "eks:UpdateClusterConfig", "eks:UpdateClusterVersion"}, {kClusters}},
        {G::kNone, {"eks:DescribeUpdate"}, {kClusters, kNodegroups, kAddons}}}},
      {"AWS::EKS::Nodegroup",
       "cluster",
       {{G::kRequestTag, {"eks:CreateNodegroup"}, {kClusters, kNodegroups}},
        {G::kResourceTag, {"eks:DeleteNodegroup", "eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion"},
         {kNodegroups}},
        {G::kNone, {"eks:DescribeNodegroup", "eks:ListNodegroups"}, {kClusters, kNodegroups}}}},
      // The VPC CNI as an EKS add-on, with its network policy agent: what
      // enforces the services' NetworkPolicies. What CloudFormation's
      // AWS::EKS::Addon handlers call, but for what byoc's add-on doesn't
      // use (service-account roles, pod identity associations).
      {"AWS::EKS::Addon",
       "cluster",
       {{G::kRequestTag, {"eks:CreateAddon"}, {kClusters, kAddons}},
        {G::kResourceTag, {"eks:UpdateAddon", "eks:DeleteAddon"}, {kAddons}},
        {G::kNone, {"eks:DescribeAddon", "eks:ListTagsForResource"}, {kAddons}}}},
      {"EKS tags",
       "cluster",
       {{G::kTag, {"eks:TagResource"}, {kClusters, kNodegroups, kAddons}},
        {G::kUntag, {"eks:UntagResource"}, {kClusters, kNodegroups, kAddons}}}},
      {"AWS::S3::Bucket",
       "stack",
       {{G::kNamed,
         {"s3:CreateBucket", "s3:PutBucketTagging", "s3:GetBucketTagging", "s3:PutEncryptionConfiguration",
          "s3:GetEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock",
          "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls", "s3:PutBucketVersioning",
          "s3:GetBucketVersioning"},
         {kBuckets}}}},
      {"AWS::ElasticLoadBalancingV2::LoadBalancer",
       "stack",
       {{G::kRequestTag, {"elasticloadbalancing:CreateLoadBalancer"}, {kLoadBalancers}},
        {G::kTagOnCreate, {"elasticloadbalancing:AddTags"}, {kLoadBalancers}},
        {G::kResourceTag,
         {"elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets"},
         {kLoadBalancers}},
        {G::kTag, {"elasticloadbalancing:AddTags"}, {kLoadBalancers}},
        {G::kUntag, {"elasticloadbalancing:RemoveTags"}, {kLoadBalancers}},
        {G::kNone, {"elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeTags"}}}},
  };
}

}  // namespace

const std::vector<ResourceActions>& vendor_action_groups() {
  static const std::vector<ResourceActions> groups = build();
  return groups;
}

std::vector<std::string> vendor_actions() {
  std::set<std::string> all;
  for (const auto& group : vendor_action_groups())
    for (const auto& grant : group.grants) all.insert(grant.actions.begin(), grant.actions.end());
  return {all.begin(), all.end()};
}

const std::vector<std::string>& eks_managed_policy_arns() {
  static const std::vector<std::string> arns = {
      "arn:${AWS::Partition}:iam::aws:policy/AmazonEKSClusterPolicy",
      "arn:${AWS::Partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:${AWS::Partition}:iam::aws:policy/AmazonEKS_CNI_Policy",
      "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  };
  return arns;
}

const std::vector<std::string>& service_linked_role_services() {
  static const std::vector<std::string> services = {"eks.amazonaws.com", "eks-nodegroup.amazonaws.com",
                                                    "elasticloadbalancing.amazonaws.com"};
  return services;
}

}  // namespace byoc::aws
