// Every IAM action byoc's management plane needs in a customer account, in
// one place: the calls it makes itself (STS, CloudFormation, EKS, EC2 and
// Service Quotas reads, the pre-flight's SimulatePrincipalPolicy) and the
// calls CloudFormation makes on its behalf for each resource type the infra
// template uses (CloudFormation runs with the caller's credentials: byoc
// passes it no service role). The onboarding template grants exactly these
// (a test checks set equality), and the pre-flight simulates exactly these.
//
// Each action comes with how it is fenced in (`Gate`): creates must tag
// byoc=true, changes and deletes must hit a resource tagged byoc=true, and
// only reads that AWS can't scope to a resource are on "*". Where a service
// keys resources by name rather than tag, the fence is the `byoc-` name
// prefix (kNamePrefix): IAM roles, S3 buckets, EKS clusters, log groups,
// CloudFormation stacks.
//
// Not granted on purpose: deleting the backup bucket and the EKS log group
// (both are kept when the stack goes: the customer's data and the customer's
// record of what the vendor did), and any "Action": "*" or "svc:*".
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
  kRequestTag,        // creates: the request tags byoc=true
  kResourceTag,       // changes and deletes: the resource is tagged byoc=true
  kTag,               // adding tags to a byoc resource (byoc itself may only stay "true")
  kUntag,             // removing tags from a byoc resource, never the byoc tag
  kTagOnCreate,       // the tagging call a create makes (<service>:CreateAction in the service's creates)
  kNamed,             // fenced by the ARN (the byoc- name prefix) alone
  kPassRole,          // iam:PassRole of byoc- roles, to EKS and EC2 only
  kServiceLinkedRole, // the service-linked roles EKS and ELB need, by service name
  kManagedPolicy,     // attaching only the AWS managed policies EKS roles need
};

struct ActionGrant {
  Gate gate = Gate::kNone;
  std::vector<std::string> actions;    // "service:Action", no wildcard
  std::vector<std::string> resources;  // ARN patterns in Fn::Sub syntax; empty: "*"
  // Changes what a role may do: with a permissions boundary given at
  // onboarding, the call must set that boundary (iam:PermissionsBoundary).
  bool bounded = false;
};

struct ResourceActions {
  std::string resource_type;  // "AWS::EC2::VPC", or "byoc management plane"
  std::string policy;         // which of the onboarding role's managed policies carries it
  std::vector<ActionGrant> grants;
};

const std::vector<ResourceActions>& vendor_action_groups();

// All actions of vendor_action_groups(), sorted, each once.
std::vector<std::string> vendor_actions();

// The AWS managed policies the infra template attaches to its roles (ARNs in
// Fn::Sub syntax); kManagedPolicy admits these and no other.
const std::vector<std::string>& eks_managed_policy_arns();

// The services the byoc- roles may be passed to (iam:PassedToService), and
// those whose service-linked roles may be created (iam:AWSServiceName).
const std::vector<std::string>& pass_role_services();
const std::vector<std::string>& service_linked_role_services();

}  // namespace byoc::aws
