// The template variants the tests render (issue 14, "Must show"): 2 and 3
// zones, /16 and /20, single and per-zone NAT, existing VPC, private API,
// peering (the accepter role in the onboarding stack), a permissions
// boundary on the onboarding stack's data-plane roles. Shared by templates_test and the
// generator whose output the schema check (cfn_validate.mjs) reads.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cloud/aws/templates/infra_template.h"
#include "cloud/aws/templates/onboarding_template.h"

namespace byoc::aws::testing {

inline aws::InfraOptions base_infra() {
  aws::InfraOptions o;
  o.name = "prod";
  o.environment_id = "e7f3a9c0";
  o.account = "444455556666";
  o.region = "us-east-1";
  o.cidr = "10.0.0.0/16";
  o.zones = {"us-east-1a", "us-east-1b", "us-east-1c"};
  o.api_allowed_cidrs = {"203.0.113.0/24", "198.51.100.7/32"};
  o.endpoint_principals = {"arn:aws:iam::111122223333:root"};
  return o;
}

inline std::vector<std::pair<std::string, aws::InfraOptions>> infra_variants() {
  std::vector<std::pair<std::string, aws::InfraOptions>> v;
  v.emplace_back("infra-3zones-16-perzone", base_infra());
  {
    auto o = base_infra();
    o.zones = {"us-east-1a", "us-east-1b"};
    o.nat = aws::NatMode::kSingle;
    v.emplace_back("infra-2zones-16-single", o);
  }
  {
    auto o = base_infra();
    o.cidr = "172.16.16.0/20";
    v.emplace_back("infra-3zones-20-perzone", o);
  }
  {
    auto o = base_infra();
    o.cidr = "192.168.0.0/20";
    o.zones = {"us-east-1a", "us-east-1b"};
    o.nat = aws::NatMode::kSingle;
    v.emplace_back("infra-2zones-20-single", o);
  }
  {
    auto o = base_infra();
    o.private_api = true;
    o.api_allowed_cidrs.clear();
    v.emplace_back("infra-private-api", o);
  }
  {
    auto o = base_infra();
    o.existing = {"vpc-0abc12345678def90",
                  {"subnet-0a000000000000001", "subnet-0a000000000000002", "subnet-0a000000000000003"},
                  {"subnet-0b000000000000001", "subnet-0b000000000000002", "subnet-0b000000000000003"}};
    o.peering = true;
    v.emplace_back("infra-existing-vpc", o);
  }
  {
    auto o = base_infra();
    o.name = "analytics-eu";
    o.region = "eu-west-1";
    o.zones = {"eu-west-1a", "eu-west-1b", "eu-west-1c"};
    o.cidr = "100.64.0.0/22";
    o.peering = true;
    o.endpoint_principals.clear();
    o.onboarding_role_name = "CustomByocRole";
    v.emplace_back("infra-22-peering-custom-role", o);
  }
  {
    auto o = base_infra();
    o.cidr = "10.32.0.0/16";
    o.zones = {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"};
    o.peering = true;
    v.emplace_back("infra-6zones-largest", o);
  }
  return v;
}

inline std::vector<std::pair<std::string, aws::OnboardingOptions>> onboarding_variants() {
  aws::OnboardingOptions plain;
  plain.management_account = "111122223333";
  plain.external_id = "byoc-env-7f3a9c";
  aws::OnboardingOptions bounded = plain;
  bounded.permissions_boundary = "arn:aws:iam::444455556666:policy/byoc-boundary";
  bounded.role_name = "CustomByocRole";
  bounded.management_principal = "arn:aws:iam::111122223333:role/ops/byoc-control";
  bounded.peer_account = "777788889999";
  return {{"onboarding", plain}, {"onboarding-boundary-peering", bounded}};
}

}  // namespace byoc::aws::testing
