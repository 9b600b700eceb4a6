// Every IAM action byoc's management plane needs in a customer account, in
// one place: the calls it makes itself (STS, CloudFormation, EKS, EC2 and
// Service Quotas reads, the pre-flight's SimulatePrincipalPolicy) and the
// calls CloudFormation makes on its behalf for each resource type the infra
// template uses (CloudFormation runs with the caller's credentials: byoc
// passes it no service role). The onboarding template grants exactly these
// (a test compares the rendered policies with vendor_actions()), and the
// pre-flight simulates exactly these.
//
// Each action comes with how it is fenced in (`Gate`): creates must tag
// byoc=true on the ARN type they create, and every existing resource they
// touch (the VPC of a subnet, the subnet and Elastic IP of a NAT gateway…)
// must already carry byoc=true; changes and deletes must hit a resource
// tagged byoc=true; tags may only be added to a resource already tagged
// byoc=true or by the create that makes it; and only reads that AWS can't
// scope to a resource are on "*". Where a service keys resources by name
// rather than tag, the fence is the name: CloudFormation stacks and EKS
// clusters byoc-*, the backup bucket byoc-*-<account>-*.
//
// No IAM writes. The roles the data plane runs as (EKS cluster role, node
// role, the peering accepter) are created by the customer in the onboarding
// stack with fixed trust and fixed AWS managed policies; the vendor may only
// read them and pass the cluster role to EKS and the node role to EKS / EC2
// (iam:PassedToService). With no iam:CreateRole, Put/AttachRolePolicy,
// UpdateAssumeRolePolicy or TagRole, the vendor can't make itself a role.
//
// Not granted on purpose: deleting the backup bucket, any CloudWatch Logs
// write (EKS creates its control-plane log group /aws/eks/<cluster>/cluster
// itself, never expiring, and the vendor can neither delete it nor shorten
// its retention), and any "Action": "*" or "svc:*". Known gap, documented:
// eks:UpdateClusterConfig (needed to change the API's allowed CIDRs on a
// stack update) can also turn control-plane logging off; IAM has no
// condition key to forbid only that. The customer sees such a call in
// CloudTrail, and the log group keeps what was written.
// Thread-safe (immutable data).
#pragma once

#include <string>
#include <vector>

namespace byoc::aws {

// Every resource byoc names starts with this, so ARN patterns can fence them.
inline constexpr const char* kNamePrefix = "byoc-";
// The tag every byoc resource carries with the value "true".
inline constexpr const char* kByocTag = "byoc";

enum class Gate {
  kNone,              // reads: on the given ARNs, or "*" where AWS has no resource-level permission
  kRequestTag,        // creates: the request tags byoc=true (on the created resource's ARN type)
  kResourceTag,       // changes and deletes, and the existing resources a create touches: tagged byoc=true
  kTag,               // adding tags to a resource already tagged byoc=true (byoc itself may only stay "true")
  kUntag,             // removing tags from a byoc resource, never the byoc tag
  kTagOnCreate,       // the tagging call a create makes (<service>:CreateAction in the service's creates)
  kNamed,             // fenced by the ARN (the byoc- name) alone
  kPassRole,          // iam:PassRole of the onboarding stack's roles, to `passed_to` only
  kServiceLinkedRole, // the service-linked roles EKS and ELB need, by service name
};

struct ActionGrant {
  Gate gate = Gate::kNone;
  std::vector<std::string> actions;    // "service:Action", no wildcard
  std::vector<std::string> resources;  // ARN patterns in Fn::Sub syntax; empty: "*"
  std::vector<std::string> passed_to;  // kPassRole: the services (iam:PassedToService)
};

struct ResourceActions {
  std::string resource_type;  // "AWS::EC2::VPC", or "byoc management plane"
  std::string policy;         // which of the onboarding role's managed policies carries it
  std::vector<ActionGrant> grants;
};

const std::vector<ResourceActions>& vendor_action_groups();

// All actions of vendor_action_groups(), sorted, each once.
std::vector<std::string> vendor_actions();

// The AWS managed policies the onboarding stack attaches to the data-plane
// roles (ARNs in Fn::Sub syntax).
const std::vector<std::string>& eks_managed_policy_arns();

// The services whose service-linked roles may be created (iam:AWSServiceName).
const std::vector<std::string>& service_linked_role_services();

// The data-plane roles the onboarding stack creates: IAM path and name
// suffixes (the name is <onboarding role name><suffix>, so two onboarding
// stacks in one account, which need two role names, never collide).
inline constexpr const char* kDataPlaneRolePath = "/byoc/";
inline constexpr const char* kClusterRoleSuffix = "-EksCluster";
inline constexpr const char* kNodeRoleSuffix = "-EksNode";
inline constexpr const char* kPeeringRoleSuffix = "-PeeringAccepter";

}  // namespace byoc::aws
