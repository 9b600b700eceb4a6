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

json condition_for(const ActionGrant& grant, const std::string& boundary) {
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
      c["StringEquals"]["iam:PassedToService"] = pass_role_services();
      break;
    case Gate::kServiceLinkedRole:
      c["StringEquals"]["iam:AWSServiceName"] = service_linked_role_services();
      break;
    case Gate::kManagedPolicy:
      c["ArnEquals"]["iam:PolicyARN"] = sub_all(eks_managed_policy_arns());
      break;
  }
  if (grant.bounded && !boundary.empty()) c["StringEquals"]["iam:PermissionsBoundary"] = boundary;
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
    case Gate::kManagedPolicy: return "AttachEksPolicies";
  }
  return "Grant";
}

// One statement per (gate, resources, bounded, tagging service): grants that
// are fenced the same way share it, which keeps each policy under IAM's
// 6,144-character limit.
std::map<std::string, json> policy_documents(const std::string& boundary) {
  using Key = std::tuple<int, std::vector<std::string>, bool, std::string>;
  std::map<std::string, std::map<Key, std::set<std::string>>> merged;
  std::map<std::string, std::map<Key, const ActionGrant*>> first;
  for (const auto& group : vendor_action_groups()) {
    for (const auto& grant : group.grants) {
      std::string service = grant.gate == Gate::kTagOnCreate ? service_of(grant.actions.front()) : "";
      Key key{static_cast<int>(grant.gate), grant.resources, grant.bounded, service};
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
      if (json c = condition_for(grant, boundary); !c.empty()) statement["Condition"] = c;
      list.push_back(std::move(statement));
    }
    documents[policy] = {{"Version", "2012-10-17"}, {"Statement", std::move(list)}};
  }
  return documents;
}

}  // namespace

json onboarding_policy_documents(const std::string& permissions_boundary) {
  json out = json::object();
  for (auto& [name, document] : policy_documents(permissions_boundary)) out[name] = std::move(document);
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

json render_onboarding_template(const OnboardingOptions& o) {
  check_account_id(o.management_account, "management_account");
  static const std::regex external_id(R"([\w+=,.@:/-]{2,1224})");
  if (!std::regex_match(o.external_id, external_id))
    throw Error::Invalid("invalid_external_id", "an ExternalId is 2 to 1224 of letters, digits and +=,.@:/-_",
                         "external_id");
  static const std::regex role_name(R"([\w+=,.@-]{1,64})");
  if (!std::regex_match(o.role_name, role_name))
    throw Error::Invalid("invalid_role_name", "`" + o.role_name + "` is not an IAM role name", "role_name");
  if (!o.permissions_boundary.empty()) check_policy_arn(o.permissions_boundary, "permissions_boundary");

  json resources = json::object();
  json policy_refs = json::array();
  for (auto& [name, document] : policy_documents(o.permissions_boundary)) {
    const std::string logical = capitalized(name) + "Policy";
    resources[logical] = {
        {"Type", "AWS::IAM::ManagedPolicy"},
        {"Properties",
         {{"Description", "byoc management plane: " + name + " resources (see byoc's vendor_actions)"},
          {"PolicyDocument", std::move(document)}}}};
    policy_refs.push_back(cfn::ref(logical));
  }
  json trust = {
      {"Version", "2012-10-17"},
      {"Statement",
       json::array({{{"Effect", "Allow"},
                     {"Principal", {{"AWS", cfn::sub("arn:${AWS::Partition}:iam::" + o.management_account + ":root")}}},
                     {"Action", "sts:AssumeRole"},
                     {"Condition", {{"StringEquals", {{"sts:ExternalId", cfn::ref("ExternalId")}}}}}}})}};
  resources["ManagementRole"] = {
      {"Type", "AWS::IAM::Role"},
      {"Properties",
       {{"RoleName", cfn::ref("RoleName")},
        {"Description", "byoc management plane (vendor account " + o.management_account + ")"},
        {"MaxSessionDuration", 3600},
        {"AssumeRolePolicyDocument", std::move(trust)},
        {"ManagedPolicyArns", std::move(policy_refs)},
        {"Tags", cfn::tags()}}}};

  return {
      {"AWSTemplateFormatVersion", "2010-09-09"},
      {"Description",
       "byoc onboarding: a role the byoc management plane (account " + o.management_account +
           ") assumes with your ExternalId to run the data-plane stack. Delete this stack to revoke it."},
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
          {"AllowedPattern", R"([\w+=,.@-]{1,64})"},
          {"Description", "Name of the role byoc assumes"}}}}},
      {"Resources", std::move(resources)},
      {"Outputs",
       {{"RoleArn",
         {{"Description", "Give this to byoc"}, {"Value", cfn::get_att("ManagementRole", "Arn")}}}}},
  };
}

std::string onboarding_quick_create_url(const std::string& region, const std::string& template_url,
                                        const std::string& stack_name, const std::string& external_id) {
  return "https://console.aws.amazon.com/cloudformation/home?region=" + uri_encode(region, false) +
         "#/stacks/quickcreate?templateURL=" + uri_encode(template_url, false) +
         "&stackName=" + uri_encode(stack_name, false) + "&param_ExternalId=" + uri_encode(external_id, false);
}

}  // namespace byoc::aws
