#include "cloud/aws/templates/onboarding_template.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "base/error.h"
#include "cloud/aws/sigv4.h"
#include "cloud/aws/templates/cfn_json.h"
#include "cloud/aws/templates/vendor_actions.h"

namespace byoc::aws {
namespace {

using nlohmann::json;

std::string service_of(const std::string& action) { return action.substr(0, action.find(':')); }

// The creates of one service that tag on create: what its
// <service>:CreateAction condition admits for the tagging call.
std::vector<std::string> tagged_creates(const std::string& service) {
  std::set<std::string> names;
  for (const auto& group : vendor_action_groups())
    for (const auto& grant : group.grants)
      if (grant.gate == Gate::kRequestTag)
        for (const auto& action : grant.actions)
          if (service_of(action) == service) names.insert(action.substr(action.find(':') + 1));
  return {names.begin(), names.end()};
}

json sub_all(const std::vector<std::string>& patterns) {
  json out = json::array();
  for (const auto& p : patterns) out.push_back(cfn::sub(p));
  return out;
}

json condition_for(const ActionGrant& grant) {
  const std::string tag = std::string(kByocTag);
  json c = json::object();
  switch (grant.gate) {
    case Gate::kNone:
    case Gate::kNamed:
      break;
    case Gate::kRequestTag:
      c["StringEquals"]["aws:RequestTag/" + tag] = "true";
      c["ForAnyValue:StringEquals"]["aws:TagKeys"] = json::array({tag});
      break;
    case Gate::kResourceTag:
      c["StringEquals"]["aws:ResourceTag/" + tag] = "true";
      break;
    case Gate::kTag:
      c["StringEquals"]["aws:ResourceTag/" + tag] = "true";
      c["StringEqualsIfExists"]["aws:RequestTag/" + tag] = "true";
      break;
    case Gate::kUntag:
      c["StringEquals"]["aws:ResourceTag/" + tag] = "true";
      c["ForAllValues:StringNotEquals"]["aws:TagKeys"] = json::array({tag});
      break;
    case Gate::kTagOnCreate:
      c["StringEquals"][service_of(grant.actions.front()) + ":CreateAction"] =
          tagged_creates(service_of(grant.actions.front()));
      c["StringEquals"]["aws:RequestTag/" + tag] = "true";
      break;
    case Gate::kPassRole:
      c["StringEquals"]["iam:PassedToService"] = grant.passed_to;
      break;
    case Gate::kServiceLinkedRole:
      c["StringEquals"]["iam:AWSServiceName"] = service_linked_role_services();
      break;
  }
  return c;
}

const char* gate_name(Gate gate) {
  switch (gate) {
    case Gate::kNone: return "Read";
    case Gate::kRequestTag: return "CreateTagged";
    case Gate::kResourceTag: return "ChangeTagged";
    case Gate::kTag: return "Tag";
    case Gate::kUntag: return "Untag";
    case Gate::kTagOnCreate: return "TagOnCreate";
    case Gate::kNamed: return "Named";
    case Gate::kPassRole: return "PassRole";
    case Gate::kServiceLinkedRole: return "ServiceLinkedRole";
  }
  return "Grant";
}

// One statement per (gate, resources, tagging service, passed-to services):
// grants that are fenced the same way share it, which keeps each policy
// under IAM's 6,144-character limit.
std::map<std::string, json> policy_documents() {
  using Key = std::tuple<int, std::vector<std::string>, std::string, std::vector<std::string>>;
  std::map<std::string, std::map<Key, std::set<std::string>>> merged;
  std::map<std::string, std::map<Key, const ActionGrant*>> first;
  for (const auto& group : vendor_action_groups()) {
    for (const auto& grant : group.grants) {
      std::string service = grant.gate == Gate::kTagOnCreate ? service_of(grant.actions.front()) : "";
      Key key{static_cast<int>(grant.gate), grant.resources, service, grant.passed_to};
      merged[group.policy][key].insert(grant.actions.begin(), grant.actions.end());
      first[group.policy].emplace(key, &grant);
    }
  }
  std::map<std::string, json> documents;
  for (const auto& [policy, statements] : merged) {
    json list = json::array();
    std::map<std::string, int> sid_uses;
    for (const auto& [key, actions] : statements) {
      const ActionGrant& grant = *first[policy][key];
      std::string sid = gate_name(grant.gate);
      if (int n = ++sid_uses[sid]; n > 1) sid += std::to_string(n);
      json statement = {{"Sid", sid},
                        {"Effect", "Allow"},
                        {"Action", std::vector<std::string>(actions.begin(), actions.end())},
                        {"Resource", grant.resources.empty() ? json("*") : sub_all(grant.resources)}};
      if (json c = condition_for(grant); !c.empty()) statement["Condition"] = c;
      list.push_back(std::move(statement));
    }
    documents[policy] = {{"Version", "2012-10-17"}, {"Statement", std::move(list)}};
  }
  return documents;
}

}  // namespace

json onboarding_policy_documents(const std::string& /*permissions_boundary*/) {
  json out = json::object();
  for (auto& [name, document] : policy_documents()) out[name] = std::move(document);
  return out;
}

namespace {

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

void check_account_id(const std::string& value, const std::string& field) {
  if (value.size() != 12 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw Error::Invalid("invalid_account", "`" + value + "` is not a 12-digit AWS account id", field);
}

void check_policy_arn(const std::string& value, const std::string& field) {
  static const std::regex arn(R"(arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512})");
  if (!std::regex_match(value, arn))
    throw Error::Invalid("invalid_arn", "`" + value + "` is not an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)",
                         field);
}

void check_onboarding_role_name(const std::string& value, const std::string& field) {
  static const std::regex role_name(R"([\w+=,.@-]{1,48})");
  if (!std::regex_match(value, role_name))
    throw Error::Invalid("invalid_role_name",
                         "`" + value + "` is not an IAM role name of at most 48 characters (the data-plane roles "
                                       "add up to 16)",
                         field);
  if (value.rfind(kNamePrefix, 0) == 0)
    throw Error::Invalid("invalid_role_name",
                         "`" + value + "` starts with byoc-, the prefix of the resources the role itself may change",
                         field);
}

std::string data_plane_role_arn(const std::string& account, const std::string& region, const std::string& role_name,
                                const std::string& suffix) {
  std::string partition = region.rfind("cn-", 0) == 0       ? "aws-cn"
                          : region.rfind("us-gov-", 0) == 0 ? "aws-us-gov"
                                                            : "aws";
  return "arn:" + partition + ":iam::" + account + ":role" + kDataPlaneRolePath + role_name + suffix;
}

namespace {

json trust(const json& principal, json condition = json()) {
  json statement = {{"Effect", "Allow"}, {"Principal", principal}, {"Action", "sts:AssumeRole"}};
  if (!condition.is_null()) statement["Condition"] = std::move(condition);
  return {{"Version", "2012-10-17"}, {"Statement", json::array({std::move(statement)})}};
}

// A data-plane role: fixed trust, fixed AWS managed policies, under /byoc/.
json data_plane_role(const OnboardingOptions& o, const std::string& suffix, json trust_policy, json managed,
                     json inline_policies = json()) {
  json props = {{"RoleName", cfn::sub("${RoleName}" + suffix)},
                {"Path", kDataPlaneRolePath},
                {"Description", "byoc data plane (" + suffix.substr(1) + "), created by the customer's onboarding stack"},
                {"AssumeRolePolicyDocument", std::move(trust_policy)},
                {"Tags", cfn::tags()}};
  if (!managed.empty()) props["ManagedPolicyArns"] = std::move(managed);
  if (!inline_policies.is_null()) props["Policies"] = std::move(inline_policies);
  if (!o.permissions_boundary.empty()) props["PermissionsBoundary"] = o.permissions_boundary;
  return {{"Type", "AWS::IAM::Role"}, {"Properties", std::move(props)}};
}

json managed_policies(const std::vector<std::string>& names) {
  json arns = json::array();
  for (const auto& name : names)
    for (const auto& arn : eks_managed_policy_arns())
      if (arn.ends_with("/" + name)) arns.push_back(cfn::sub(arn));
  return arns;
}

// The accepter may accept only peerings into a byoc-tagged VPC (the data
// plane's; the infra stack makes it later, so no id is known here).
json peering_accept_policy() {
  const std::string ec2 = "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:";
  json doc = {{"Version", "2012-10-17"},
              {"Statement",
               json::array({{{"Effect", "Allow"},
                             {"Action", "ec2:AcceptVpcPeeringConnection"},
                             {"Resource", cfn::sub(ec2 + "vpc/*")},
                             {"Condition", {{"StringEquals", {{std::string("aws:ResourceTag/") + kByocTag, "true"}}}}}},
                            {{"Effect", "Allow"},
                             {"Action", "ec2:AcceptVpcPeeringConnection"},
                             {"Resource", cfn::sub(ec2 + "vpc-peering-connection/*")}}})}};
  return json::array({{{"PolicyName", "accept-peering"}, {"PolicyDocument", std::move(doc)}}});
}

}  // namespace

json render_onboarding_template(const OnboardingOptions& o) {
  check_account_id(o.management_account, "management_account");
  static const std::regex external_id(R"([\w+=,.@:/-]{2,1224})");
  if (!std::regex_match(o.external_id, external_id))
    throw Error::Invalid("invalid_external_id", "an ExternalId is 2 to 1224 of letters, digits and +=,.@:/-_",
                         "external_id");
  check_onboarding_role_name(o.role_name, "role_name");
  if (!o.permissions_boundary.empty()) check_policy_arn(o.permissions_boundary, "permissions_boundary");
  json principal = cfn::sub("arn:${AWS::Partition}:iam::" + o.management_account + ":role/" +
                            kDefaultManagementPrincipalName);
  if (!o.management_principal.empty()) {
    static const std::regex role_arn(R"(arn:aws(-[a-z]+)*:iam::(\d{12}):role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64})");
    std::smatch m;
    if (!std::regex_match(o.management_principal, m, role_arn))
      throw Error::Invalid("invalid_management_principal",
                           "`" + o.management_principal + "` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                           "management_principal");
    if (m[2].str() != o.management_account)
      throw Error::Invalid("invalid_management_principal",
                           "the management principal is not in the management account " + o.management_account,
                           "management_principal");
    principal = o.management_principal;
  }
  if (!o.peer_account.empty()) check_account_id(o.peer_account, "peer_account");

  json resources = json::object();
  json policy_refs = json::array();
  for (auto& [name, document] : policy_documents()) {
    const std::string logical = capitalized(name) + "Policy";
    resources[logical] = {
        {"Type", "AWS::IAM::ManagedPolicy"},
        {"Properties",
         {{"Description", "byoc management plane: " + name + " resources (see byoc's vendor_actions)"},
          {"PolicyDocument", std::move(document)}}}};
    policy_refs.push_back(cfn::ref(logical));
  }
  resources["ManagementRole"] = {
      {"Type", "AWS::IAM::Role"},
      {"Properties",
       {{"RoleName", cfn::ref("RoleName")},
        {"Description", "byoc management plane (vendor account " + o.management_account + ")"},
        {"MaxSessionDuration", 3600},
        {"AssumeRolePolicyDocument",
         trust({{"AWS", principal}}, {{"StringEquals", {{"sts:ExternalId", cfn::ref("ExternalId")}}}})},
        {"ManagedPolicyArns", std::move(policy_refs)},
        {"Tags", cfn::tags()}}}};
  resources["ClusterRole"] = data_plane_role(o, kClusterRoleSuffix, trust({{"Service", "eks.amazonaws.com"}}),
                                             managed_policies({"AmazonEKSClusterPolicy"}));
  resources["NodeRole"] =
      data_plane_role(o, kNodeRoleSuffix, trust({{"Service", "ec2.amazonaws.com"}}),
                      managed_policies({"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                                        "AmazonEC2ContainerRegistryReadOnly"}));
  json outputs = {
      {"RoleArn", {{"Description", "Give this to byoc"}, {"Value", cfn::get_att("ManagementRole", "Arn")}}},
      {"ClusterRoleArn",
       {{"Description", "The EKS cluster role byoc passes to EKS"}, {"Value", cfn::get_att("ClusterRole", "Arn")}}},
      {"NodeRoleArn",
       {{"Description", "The node role byoc passes to EKS node groups"}, {"Value", cfn::get_att("NodeRole", "Arn")}}}};
  if (!o.peer_account.empty()) {
    resources["PeeringAccepterRole"] =
        data_plane_role(o, kPeeringRoleSuffix,
                        trust({{"AWS", cfn::sub("arn:${AWS::Partition}:iam::" + o.peer_account + ":root")}}),
                        json::array(), peering_accept_policy());
    outputs["PeeringAccepterRoleArn"] = {{"Description", "PeerRoleArn of the peer account's peering connection"},
                                         {"Value", cfn::get_att("PeeringAccepterRole", "Arn")}};
  }

  return {
      {"AWSTemplateFormatVersion", "2010-09-09"},
      {"Description",
       "byoc onboarding: a role the byoc management plane (account " + o.management_account +
           ") assumes with your ExternalId to run the data-plane stack, and the roles the data plane runs as. "
           "Delete this stack to revoke it."},
      {"Parameters",
       {{"ExternalId",
         {{"Type", "String"},
          {"Default", o.external_id},
          {"MinLength", 2},
          {"MaxLength", 1224},
          {"AllowedPattern", R"([\w+=,.@:/-]*)"},
          {"Description", "The ExternalId byoc shows for this environment; the role can't be assumed without it"}}},
        {"RoleName",
         {{"Type", "String"},
          {"Default", o.role_name},
          {"AllowedPattern", R"([\w+=,.@-]{1,48})"},
          {"Description",
           "Name of the role byoc assumes (not starting with byoc-); the data-plane roles are named after it"}}}}},
      {"Resources", std::move(resources)},
      {"Outputs", std::move(outputs)},
  };
}

std::string onboarding_quick_create_url(const std::string& region, const std::string& template_url,
                                        const std::string& stack_name, const std::string& external_id) {
  return "https://console.aws.amazon.com/cloudformation/home?region=" + uri_encode(region, false) +
         "#/stacks/quickcreate?templateURL=" + uri_encode(template_url, false) +
         "&stackName=" + uri_encode(stack_name, false) + "&param_ExternalId=" + uri_encode(external_id, false);
}

}  // namespace byoc::aws
