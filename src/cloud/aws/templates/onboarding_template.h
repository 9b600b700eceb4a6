// The customer's onboarding stack: the one CloudFormation template a customer
// deploys by hand (quick-create link) to let byoc's management plane in. It
// holds an IAM role trusted only by the vendor's management principal (one
// role in the vendor's account, not the whole account) with the customer's
// ExternalId (the confused-deputy guard), and least-privilege managed
// policies built from vendor_actions.h: creates must tag byoc=true, changes
// and deletes must hit byoc-tagged (or byoc- named) resources.
//
// It also holds the roles the data plane runs as, so the vendor never writes
// IAM: the EKS cluster role (trusted by eks.amazonaws.com,
// AmazonEKSClusterPolicy), the node role (ec2.amazonaws.com, the three worker
// policies) and, with a peer account, the VPC peering accepter (trusted by
// that account, may only accept peerings into a byoc-tagged VPC). Their names
// are <RoleName>-EksCluster, -EksNode, -PeeringAccepter under the IAM path
// /byoc/; the stack outputs their ARNs, the infra template takes them as
// parameters, and the vendor may only pass them (iam:PassRole to EKS / EC2).
// A permissions boundary, if given, is set on these roles. Deleting the stack
// revokes everything.
//
// Pure renderer (options in, nlohmann::json out, no I/O). Bad options throw
// byoc::Error kInvalid with the field at fault. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace byoc::aws {

inline constexpr const char* kDefaultRoleName = "ByocManagementRole";

struct OnboardingOptions {
  std::string management_account;    // 12 digits: the vendor's account
  // The one principal (a role ARN in management_account) that may assume the
  // role; empty: arn:<partition>:iam::<management_account>:role/byoc-management-plane.
  // It must exist when the customer deploys (IAM refuses a trust policy
  // naming a missing role).
  std::string management_principal;
  std::string external_id;           // the per-environment secret-ish token (2–1224 of [\w+=,.@:/-])
  std::string permissions_boundary;  // optional IAM policy ARN set on the data-plane roles
  // At most 48 characters (the data-plane roles append up to 16), and not
  // byoc-… (that prefix is the vendor's fence).
  std::string role_name = kDefaultRoleName;
  std::string peer_account;          // optional: creates the VPC peering accepter role it may assume
};

inline constexpr const char* kDefaultManagementPrincipalName = "byoc-management-plane";
inline constexpr size_t kMaxRoleNameLength = 48;

nlohmann::json render_onboarding_template(const OnboardingOptions& options);

// The role's managed policy documents ({policy name: document}, resources
// in Fn::Sub syntax, ${RoleName} standing for the onboarding role's name),
// as the template embeds them: what the pre-flight simulates. (The
// permissions boundary no longer changes them: the vendor creates no role;
// the parameter stays for callers.)
nlohmann::json onboarding_policy_documents(const std::string& permissions_boundary);

// The console link that opens the quick-create page of a template uploaded
// at `template_url` (https, S3) with the ExternalId filled in.
std::string onboarding_quick_create_url(const std::string& region, const std::string& template_url,
                                        const std::string& stack_name, const std::string& external_id);

// The ARN of a data-plane role the onboarding stack creates (suffix from
// vendor_actions.h), in `account`'s partition for `region`.
std::string data_plane_role_arn(const std::string& account, const std::string& region, const std::string& role_name,
                                const std::string& suffix);
// The check of OnboardingOptions::role_name; throws kInvalid with `field`.
void check_onboarding_role_name(const std::string& value, const std::string& field);

// Checks shared by both templates; throw kInvalid with `field`.
void check_account_id(const std::string& value, const std::string& field);
void check_policy_arn(const std::string& value, const std::string& field);

}  // namespace byoc::aws
