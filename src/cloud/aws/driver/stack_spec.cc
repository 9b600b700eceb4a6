#include "cloud/aws/driver/stack_spec.h"

#include "base/crypto.h"
#include "base/error.h"
#include "cloud/aws/driver/stack_observation.h"
#include "cloud/aws/templates/infra_template.h"
#include "cloud/aws/templates/onboarding_template.h"
#include "cloud/traits.h"

namespace byoc::aws {
namespace {

// Node groups of an environment that narrows no instance types: one
// general-purpose type of the catalogue.
const std::vector<std::string> kDefaultNodeTypes = {"m7gd.xlarge"};

std::vector<std::string> zone_names(const model::Environment& e) {
  std::vector<std::string> out;
  for (const auto& z : e.zones) out.push_back(e.region + z);
  return out;
}

std::string account_field(const model::Environment& e, const std::string& name) {
  auto it = e.account.find(name);
  return it == e.account.end() ? "" : it->second;
}

InfraOptions infra_options(const model::Environment& e, const AwsDriverOptions& options) {
  InfraOptions o;
  o.name = e.name;
  // env-<16 hex>: the hex names the retained backup bucket.
  o.environment_id = e.id.rfind("env-", 0) == 0 ? e.id.substr(4) : e.id;
  o.account = account_field(e, "account_id");
  if (o.account.empty()) throw Error::Invalid("account_id_missing", "the customer's account id is not known", "account.account_id");
  if (!account_field(e, "role_name").empty()) o.onboarding_role_name = account_field(e, "role_name");
  o.region = e.region;
  o.cidr = e.cidr;
  o.zones = zone_names(e);
  o.nat = NatMode::kPerZone;
  if (options.api_allowed_cidrs.empty())
    throw Error::Invalid("aws_not_configured",
                         "BYOC_AWS_API_ALLOWED_CIDRS is not set: the EKS API would admit no one "
                         "(give the management plane's NAT addresses)",
                         "BYOC_AWS_API_ALLOWED_CIDRS");
  o.api_allowed_cidrs = options.api_allowed_cidrs;
  // The version the Kubernetes upgrades start from (cloud/traits.h).
  if (const cloud::CloudTraits* traits = cloud::find_cloud("aws")) o.eks_version = traits->kubernetes_version;
  return o;
}

}  // namespace

StackSpec stack_spec(const model::Environment& environment, const AwsDriverOptions& options) {
  InfraOptions infra = infra_options(environment, options);
  StackSpec spec;
  spec.stack_name = infra_stack_name(environment.name);
  spec.template_body = render_infra_template(infra).dump();
  if (spec.template_body.size() > kMaxTemplateBody)
    throw Error::Invalid("template_too_large",
                         "the stack's template is " + std::to_string(spec.template_body.size()) +
                             " bytes, over CloudFormation's " + std::to_string(kMaxTemplateBody) +
                             ": use fewer zones",
                         "zones");
  spec.digest = crypto::sha256_hex(spec.template_body).substr(0, 32);
  spec.tags = nlohmann::json::array({{{"Key", "byoc"}, {"Value", "true"}},
                                     {{"Key", "byoc-environment"}, {"Value", environment.id}},
                                     {{"Key", kSpecTag}, {"Value", spec.digest}}});
  return spec;
}

std::vector<NodeGroupSpec> environment_node_groups(const model::Environment& environment) {
  return node_group_specs(environment.instance_types.empty() ? kDefaultNodeTypes : environment.instance_types,
                          kMaxNodesPerGroup);
}

PreflightRequest preflight_request(const model::Environment& e, const std::string& session_name) {
  PreflightRequest r;
  r.role_arn = role_arn_of(e);
  r.external_id = account_field(e, "external_id");
  r.session_name = session_name;
  r.region = e.region;
  r.zones = zone_names(e);
  r.instance_types = e.instance_types.empty() ? kDefaultNodeTypes : e.instance_types;
  r.nat_gateways = static_cast<int>(e.zones.size());
  r.new_vpc = true;
  return r;
}

std::string role_arn_of(const model::Environment& e) { return account_field(e, "role_arn"); }

}  // namespace byoc::aws
