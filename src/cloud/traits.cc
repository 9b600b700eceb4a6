#include "cloud/traits.h"

namespace byoc::cloud {

const std::map<std::string, CloudTraits>& clouds() {
  static const std::map<std::string, CloudTraits> all = [] {
    const std::vector<std::string> letters_af = {"a", "b", "c", "d", "e", "f"};
    CloudTraits local;
    local.name = "local";
    local.summary = "this machine is the customer's cloud: the server runs the agent and its services here";
    local.zones_by_region = {{"local", letters_af}};
    local.default_region = "local";
    local.clickhouse_versions = {"18.16.1"};
    local.capacity = CapacitySource::kHost;
    local.host_is_server = true;

    CloudTraits external = local;
    external.name = "external";
    external.summary = "you run `byoc agent` on a machine of yours with a join token";
    external.host_is_server = false;

    CloudTraits aws;
    aws.name = "aws";
    aws.summary = "an EKS cluster in the customer's AWS account, through the role the customer deploys";
    // AWS regions with their availability-zone suffixes (public AWS documentation).
    aws.zones_by_region = {{"us-east-1", letters_af},
                           {"us-east-2", {"a", "b", "c"}},
                           {"us-west-2", {"a", "b", "c", "d"}},
                           {"eu-west-1", {"a", "b", "c"}},
                           {"eu-central-1", {"a", "b", "c"}},
                           {"ap-southeast-1", {"a", "b", "c"}}};
    aws.clickhouse_versions = {"18.16.1"};
    aws.capacity = CapacitySource::kCatalogue;
    aws.customer_grants_access = true;
    aws.kubernetes_version = "1.31";  // the stack's EKS cluster (aws/driver/stack_spec.cc)
    // IAM's limits: a 12-digit account; a role name of [\w+=,.@-], here at
    // most 48 long (the onboarding stack names the data-plane roles after
    // it) and never byoc-… (the vendor's own prefix).
    aws.account_fields = {
        {"account_id", "[0-9]{12}", "the customer's 12-digit AWS account id", ""},
        {"role_name", "[A-Za-z0-9+=,.@_-]{1,48}", "the onboarding role's name (default ByocManagementRole)", "byoc-"}};
    return std::map<std::string, CloudTraits>{{local.name, local}, {external.name, external}, {aws.name, aws}};
  }();
  return all;
}

const char* capacity_source_name(CapacitySource source) {
  return source == CapacitySource::kCatalogue ? "catalogue" : "host";
}

const CloudTraits* find_cloud(const std::string& name) {
  auto it = clouds().find(name);
  return it == clouds().end() ? nullptr : &it->second;
}

}  // namespace byoc::cloud
