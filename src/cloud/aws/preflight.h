// The pre-flight: before byoc creates anything in a customer's account it
// checks, with read-only calls, that everything it will need is there, and
// names each thing that is not — so a customer fixes their onboarding stack
// or asks for a quota once, rather than watching a 45-minute stack roll back.
//
//   1. STS AssumeRole into the onboarding role with the environment's
//      ExternalId (the trust policy and the ExternalId), and
//      GetCallerIdentity with what it gave (the account is the role's).
//   2. IAM SimulatePrincipalPolicy of the role for every statement of the
//      onboarding policies byoc renders (vendor_actions.h), each with its
//      resources and a request context that meets its conditions: what the
//      customer deployed must allow exactly what byoc's template grants.
//   3. The zones exist and are available; each instance type is offered in
//      each zone.
//   4. Quotas (Service Quotas, against usage where EC2 reports it): VPCs
//      and Elastic IPs for a new network, NAT gateways per zone, EKS
//      clusters, and On-Demand vCPUs for one node of the largest type.
//
// The planning and judging parts are pure and exposed for tests; run_preflight
// does the calls. Nothing here changes anything in the account.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cloud/aws/client.h"

namespace byoc::aws {

struct PreflightRequest {
  std::string role_arn;      // arn:aws:iam::ACCOUNT:role/NAME
  std::string external_id;
  std::string session_name;  // names the AssumeRole session in the customer's CloudTrail (the operation id)
  std::string region;
  std::vector<std::string> zones;           // e.g. eu-west-1a
  std::vector<std::string> instance_types;  // the node groups' types
  int nat_gateways = 1;                     // 0 with an existing VPC
  bool new_vpc = true;
  std::string permissions_boundary;         // as given at onboarding ("" when none)
};

// One thing that stands in the way.
struct PreflightFinding {
  std::string code;     // assume_role_denied, wrong_account, permission_missing, zone_unavailable,
                        // instance_type_not_offered, quota_too_low, check_failed
  std::string subject;  // the action, zone, type@zone or quota code concerned
  std::string message;  // what to do about it
  bool operator==(const PreflightFinding&) const = default;
};

struct PreflightReport {
  std::string account;         // the customer's account, once the role was assumed
  int actions_simulated = 0;
  int quotas_checked = 0;
  std::vector<PreflightFinding> findings;
  bool ok() const { return findings.empty(); }
  nlohmann::json to_json() const;
};

// One SimulatePrincipalPolicy question: these actions on these resources, in
// a context that meets the statement's conditions.
struct Simulation {
  std::vector<std::string> actions;
  std::vector<std::string> resources;  // concrete ARNs ("*" for actions with no resource-level permission)
  nlohmann::json context = nlohmann::json::array();  // ContextEntries
};

// The questions for `policies` ({name: policy document}, as the onboarding
// template renders them, Fn::Sub patterns resolved for `account`, `region`
// and the role's name; a wildcard in a resource pattern stands for a byoc-
// name).
std::vector<Simulation> plan_simulations(const nlohmann::json& policies, const std::string& account,
                                         const std::string& region, const std::string& role_name);

// The AWS partition of a region: aws, aws-cn or aws-us-gov.
std::string partition_of(const std::string& region);

// What the management plane's own credentials and endpoints are
// (`base.service` and `base.credentials` are the management plane's; the
// pre-flight's calls use the assumed role).
PreflightReport run_preflight(const PreflightRequest& request, const ClientOptions& base);

}  // namespace byoc::aws
