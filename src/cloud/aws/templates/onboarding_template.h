// The customer's onboarding stack: the one CloudFormation template a customer
// deploys by hand (quick-create link) to let byoc's management plane in. It
// holds an IAM role trusted only by the vendor's management account with the
// customer's ExternalId (the confused-deputy guard), and least-privilege
// managed policies built from vendor_actions.h: creates must tag byoc=true,
// changes and deletes must hit byoc-tagged (or byoc- named) resources,
// iam:PassRole only of byoc- roles to EKS and EC2. Deleting the stack revokes
// everything.
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
  std::string external_id;           // the per-environment secret-ish token (2–1224 of [\w+=,.@:/-])
  std::string permissions_boundary;  // optional IAM policy ARN every byoc- role must carry
  std::string role_name = kDefaultRoleName;
};

nlohmann::json render_onboarding_template(const OnboardingOptions& options);

// The role's managed policy documents ({policy name: document}, resources
// in Fn::Sub syntax), as the template embeds them: what the pre-flight
// simulates.
nlohmann::json onboarding_policy_documents(const std::string& permissions_boundary);

// The console link that opens the quick-create page of a template uploaded
// at `template_url` (https, S3) with the ExternalId filled in.
std::string onboarding_quick_create_url(const std::string& region, const std::string& template_url,
                                        const std::string& stack_name, const std::string& external_id);

// Checks shared by both templates; throw kInvalid with `field`.
void check_account_id(const std::string& value, const std::string& field);
void check_policy_arn(const std::string& value, const std::string& field);

}  // namespace byoc::aws
