#include "cloud/aws/templates/infra_template.h"

#include <optional>
#include <regex>
#include <set>

#include "base/error.h"
#include "cloud/aws/templates/cfn_json.h"
#include "cloud/aws/templates/infra_parts.h"
#include "cloud/aws/templates/onboarding_template.h"

namespace byoc::aws {
namespace {

using nlohmann::json;

// 24 keeps every derived name inside AWS's limits: the bucket
// (byoc-<name>-<account>-<environment id> ≤ 5+24+1+12+1+16 = 59 ≤ 63), the
// NLB (byoc-<name> ≤ 32).
constexpr size_t kMaxNameLength = 24;
// The oldest EKS whose VPC CNI add-on has a network policy agent.
constexpr int kMinimumEksMinor = 25;

void check_options(const InfraOptions& o) {
  static const std::regex name(R"([a-z]([a-z0-9-]*[a-z0-9])?)");
  if (o.name.size() > kMaxNameLength || !std::regex_match(o.name, name))
    throw Error::Invalid("invalid_name",
                         "`" + o.name + "` is not an environment name: lowercase letters, digits and inner hyphens, "
                                        "at most 24",
                         "name");
  static const std::regex environment_id(R"([a-z0-9]{4,16})");
  if (!std::regex_match(o.environment_id, environment_id))
    throw Error::Invalid("invalid_environment_id",
                         "`" + o.environment_id + "` is not an environment id: 4 to 16 lowercase letters and digits",
                         "environment_id");
  check_account_id(o.account, "account");
  check_onboarding_role_name(o.onboarding_role_name, "onboarding_role_name");
  static const std::regex region(R"([a-z]{2}(-[a-z]+)+-\d)");
  if (!std::regex_match(o.region, region))
    throw Error::Invalid("invalid_region", "`" + o.region + "` is not an AWS region such as us-east-1", "region");
  for (const auto& zone : o.zones)
    if (zone.rfind(o.region, 0) != 0)
      throw Error::Invalid("invalid_zones", "zone " + zone + " is not in region " + o.region, "zones");
  static const std::regex version(R"(1\.\d{2})");
  if (!std::regex_match(o.eks_version, version))
    throw Error::Invalid("invalid_eks_version", "`" + o.eks_version + "` is not an EKS version such as 1.31",
                         "eks_version");
  // The VPC CNI enforces NetworkPolicies from EKS 1.25 on (infra_eks.cc).
  if (std::stoi(o.eks_version.substr(2)) < kMinimumEksMinor)
    throw Error::Invalid("invalid_eks_version",
                         "EKS " + o.eks_version + " can't enforce NetworkPolicies: give 1." +
                             std::to_string(kMinimumEksMinor) + " or later",
                         "eks_version");
  if (o.private_api && !o.api_allowed_cidrs.empty())
    throw Error::Invalid("invalid_api_access", "a private API has no public endpoint to allow CIDRs on",
                         "api_allowed_cidrs");
  if (!o.private_api && o.api_allowed_cidrs.empty())
    throw Error::Invalid("invalid_api_access",
                         "name the CIDRs that may reach the EKS API (the management plane's NAT addresses), or "
                         "make it private",
                         "api_allowed_cidrs");
  if (o.api_allowed_cidrs.size() > 40)
    throw Error::Invalid("invalid_api_access", "EKS admits at most 40 public access CIDRs", "api_allowed_cidrs");
  for (const auto& text : o.api_allowed_cidrs) {
    Ipv4Cidr cidr = parse_network_cidr(text, "api_allowed_cidrs", "invalid_api_access", "203.0.113.0/24");
    if (cidr.prefix == 0)
      throw Error::Invalid("invalid_api_access", "0.0.0.0/0 would open the EKS API to the internet",
                           "api_allowed_cidrs");
  }
  static const std::regex principal(R"(arn:aws(-[a-z]+)*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+))");
  for (const auto& p : o.endpoint_principals)
    if (!std::regex_match(p, principal))
      throw Error::Invalid("invalid_endpoint_principals",
                           "`" + p + "` is not an IAM principal ARN (arn:aws:iam::ACCOUNT:root|role/…|user/…)",
                           "endpoint_principals");
  const auto& e = o.existing;
  if (e.vpc_id.empty()) {
    if (!e.private_subnets.empty() || !e.public_subnets.empty())
      throw Error::Invalid("invalid_existing_vpc", "subnet ids go with an existing VPC (--existing-vpc)",
                           "existing_vpc");
    return;
  }
  static const std::regex vpc(R"(vpc-[0-9a-f]{8,17})"), subnet(R"(subnet-[0-9a-f]{8,17})");
  if (!std::regex_match(e.vpc_id, vpc))
    throw Error::Invalid("invalid_existing_vpc", "`" + e.vpc_id + "` is not a VPC id such as vpc-0abc12345678def90",
                         "existing_vpc");
  if (e.private_subnets.size() != o.zones.size())
    throw Error::Invalid("invalid_existing_vpc", "give one private subnet per zone, in the zones' order",
                         "private_subnets");
  if (!e.public_subnets.empty() && e.public_subnets.size() != o.zones.size())
    throw Error::Invalid("invalid_existing_vpc", "give one public subnet per zone, or none", "public_subnets");
  for (const auto* list : {&e.private_subnets, &e.public_subnets})
    for (const auto& s : *list)
      if (!std::regex_match(s, subnet))
        throw Error::Invalid("invalid_existing_vpc", "`" + s + "` is not a subnet id such as subnet-0abc12345678def90",
                             list == &e.private_subnets ? "private_subnets" : "public_subnets");
}

// An existing VPC's CIDR is the customer's: it only has to be a network
// (it bounds the security groups), not one byoc would carve.
Ipv4Cidr existing_vpc_cidr(const InfraOptions& o) {
  Ipv4Cidr cidr = parse_network_cidr(o.cidr, "cidr");
  check_zones(o.zones);
  return cidr;
}

json join_ids(const json& ids) { return {{"Fn::Join", json::array({",", ids})}}; }

}  // namespace

namespace infra {

json Document::vpc_id() const { return builds_network() ? cfn::ref("Vpc") : json(options.existing.vpc_id); }

json Document::private_subnet_ids() const {
  json ids = json::array();
  if (!builds_network()) return options.existing.private_subnets;
  for (size_t i = 1; i <= options.zones.size(); ++i) ids.push_back(cfn::ref("PrivateSubnet" + std::to_string(i)));
  return ids;
}

json Document::public_subnet_ids() const {
  json ids = json::array();
  if (!builds_network()) return options.existing.public_subnets;
  for (size_t i = 1; i <= options.zones.size(); ++i) ids.push_back(cfn::ref("PublicSubnet" + std::to_string(i)));
  return ids;
}

}  // namespace infra

std::string infra_stack_name(const std::string& environment) { return "byoc-" + environment; }
std::string infra_cluster_name(const std::string& environment) { return "byoc-" + environment; }

json render_infra_template(const InfraOptions& o) {
  check_options(o);
  std::optional<NetworkPlan> plan;
  Ipv4Cidr vpc_cidr;
  if (o.existing.vpc_id.empty()) {
    plan = plan_network(o.cidr, o.zones);
    vpc_cidr = plan->vpc;
  } else {
    vpc_cidr = existing_vpc_cidr(o);
  }
  infra::Document doc{o, vpc_cidr};
  if (plan) infra::add_network(doc, *plan);
  infra::add_cluster(doc);
  infra::add_endpoints(doc);

  doc.outputs["VpcId"] = {{"Value", doc.vpc_id()}};
  doc.outputs["PrivateSubnetIds"] = {{"Value", join_ids(doc.private_subnet_ids())}};
  if (!doc.public_subnet_ids().empty()) doc.outputs["PublicSubnetIds"] = {{"Value", join_ids(doc.public_subnet_ids())}};

  json out = {{"AWSTemplateFormatVersion", "2010-09-09"},
              {"Description", "byoc data plane " + o.name + " (" + o.region + ", " + vpc_cidr.str() +
                                  "): network, EKS, backups and service endpoints. Managed by byoc; "
                                  "the backup bucket and the EKS log group are kept when it is deleted."}};
  if (!doc.parameters.empty()) out["Parameters"] = doc.parameters;
  if (!doc.conditions.empty()) out["Conditions"] = doc.conditions;
  out["Resources"] = doc.resources;
  out["Outputs"] = doc.outputs;
  return out;
}

}  // namespace byoc::aws
