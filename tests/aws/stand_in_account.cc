#include "stand_in_account.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cloud/aws/templates/onboarding_template.h"

namespace byoc::testing {
using nlohmann::json;

CannedResponse ec2_answer(const std::string& operation, const std::string& inner) {
  return {200,
          {{"Content-Type", "text/xml"}},
          "<" + operation + "Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>" +
              inner + "</" + operation + "Response>"};
}

std::vector<std::string> members(std::map<std::string, std::string>& form, const std::string& name) {
  std::vector<std::string> out;
  for (int i = 1; form.count(name + ".member." + std::to_string(i)); ++i)
    out.push_back(form[name + ".member." + std::to_string(i)]);
  return out;
}

namespace {

// IAM's wildcards: '*' any run of characters, '?' one.
bool glob(const std::string& pattern, const std::string& text, size_t p = 0, size_t t = 0) {
  if (p == pattern.size()) return t == text.size();
  if (pattern[p] == '*')
    return glob(pattern, text, p + 1, t) || (t < text.size() && glob(pattern, text, p, t + 1));
  return t < text.size() && (pattern[p] == '?' || pattern[p] == text[t]) && glob(pattern, text, p + 1, t + 1);
}

// The onboarding policies as deployed in account 123456789012 (eu-west-1),
// their Fn::Sub patterns resolved as CloudFormation would.
std::string deployed(const json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.at("Fn::Sub").get<std::string>();
  const std::map<std::string, std::string> values = {{"AWS::AccountId", "123456789012"},
                                                     {"AWS::Region", "eu-west-1"},
                                                     {"AWS::Partition", "aws"},
                                                     {"RoleName", "ByocManagementRole"}};
  for (size_t start; (start = text.find("${")) != std::string::npos;) {
    size_t end = text.find('}', start);
    text.replace(start, end - start + 1, values.at(text.substr(start + 2, end - start - 2)));
  }
  return text;
}

std::vector<std::string> deployed_list(const json& value) {
  std::vector<std::string> out;
  for (const auto& v : value.is_array() ? value : json::array({value})) out.push_back(deployed(v));
  return out;
}

// IAM's evaluation of one condition operator on one key, for the operators
// the onboarding policies use.
bool condition_holds(std::string op, const std::string& key, const std::vector<std::string>& admitted,
                     const std::map<std::string, std::vector<std::string>>& context) {
  bool for_any = op.rfind("ForAnyValue:", 0) == 0, for_all = op.rfind("ForAllValues:", 0) == 0;
  if (for_any || for_all) op = op.substr(op.find(':') + 1);
  bool if_exists = op.size() > 8 && op.ends_with("IfExists");
  if (if_exists) op = op.substr(0, op.size() - 8);
  auto it = context.find(key);
  if (it == context.end() || it->second.empty()) return if_exists || for_all;
  bool negated = op.find("Not") != std::string::npos;
  auto matches = [&](const std::string& v) {
    for (const auto& a : admitted) {
      bool same = op.find("Like") != std::string::npos || op.rfind("Arn", 0) == 0 ? glob(a, v) : a == v;
      if (same) return true;
    }
    return false;
  };
  auto ok = [&](const std::string& v) { return negated ? !matches(v) : matches(v); };
  const auto& values = it->second;
  if (for_all) return std::all_of(values.begin(), values.end(), ok);
  return std::any_of(values.begin(), values.end(), ok);
}

}  // namespace

bool policy_allows(const std::string& action, const std::string& resource,
                   const std::map<std::string, std::vector<std::string>>& context) {
  static const json policies = aws::onboarding_policy_documents("");
  for (const auto& [name, document] : policies.items()) {
    for (const auto& st : document["Statement"]) {
      auto actions = deployed_list(st["Action"]);
      if (std::find(actions.begin(), actions.end(), action) == actions.end()) continue;
      auto patterns = deployed_list(st["Resource"]);
      if (std::none_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return glob(p, resource); }))
        continue;
      bool all = true;
      const json conditions = st.value("Condition", json::object());  // kept: items() must not outlive it
      for (const auto& [op, keys] : conditions.items())
        for (const auto& [key, admitted] : keys.items())
          all = all && condition_holds(op, key, deployed_list(admitted), context);
      if (all) return true;
    }
  }
  return false;
}

// The customer's account: one permission missing from the role, zone c
// not there, five VPCs of five already in use.
CannedResponse StandInAccount::operator()(const RecordedRequest& r) {
  std::lock_guard lock(mutex);
    std::string action = r.action();
    if (r.method == "GET" && r.target.rfind("/clusters", 0) == 0)
      return {200, {{"Content-Type", "application/json"}}, R"({"clusters": ["other"]})"};
    if (action == "AssumeRole") {
      if (trust_refused)
        return query_error(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole");
      return query_answer(
          "AssumeRole",
          "<Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>rs</SecretAccessKey>"
          "<SessionToken>rt</SessionToken><Expiration>2027-01-15T09:00:00Z</Expiration></Credentials>");
    }
    if (action == "GetCallerIdentity")
      return query_answer(
          "GetCallerIdentity", "<Account>123456789012</Account><Arn>arn:aws:sts::123456789012:assumed-role/R/op</Arn>");
    if (action == "SimulatePrincipalPolicy") {
      auto form = r.form();
      std::vector<std::string> actions = members(form, "ActionNames"), resources = members(form, "ResourceArns");
      std::map<std::string, std::vector<std::string>> context;
      for (int i = 1; form.count("ContextEntries.member." + std::to_string(i) + ".ContextKeyName"); ++i) {
        std::string prefix = "ContextEntries.member." + std::to_string(i);
        context[form[prefix + ".ContextKeyName"]] = members(form, prefix + ".ContextKeyValues");
      }
      std::string results;
      for (const auto& a : actions) {
        simulated.push_back(a);
        for (const auto& resource : resources) {
          bool allowed = a != denied_action && policy_allows(a, resource, context);
          results += "<member><EvalActionName>" + a + "</EvalActionName><EvalResourceName>" + resource +
                     "</EvalResourceName><EvalDecision>" + (allowed ? "allowed" : "implicitDeny") +
                     "</EvalDecision></member>";
        }
      }
      return query_answer("SimulatePrincipalPolicy",
                                         "<EvaluationResults>" + results + "</EvaluationResults><IsTruncated>false</IsTruncated>",
                                         "https://iam.amazonaws.com/doc/2010-05-08/");
    }
    if (action == "DescribeAvailabilityZones")
      return ec2_answer(action,
                        "<availabilityZoneInfo><item><zoneName>eu-west-1a</zoneName><zoneState>available</zoneState></item>"
                        "<item><zoneName>eu-west-1b</zoneName><zoneState>available</zoneState></item></availabilityZoneInfo>");
    if (action == "DescribeInstanceTypeOfferings")
      return ec2_answer(action,
                        "<instanceTypeOfferingSet><item><instanceType>" + offered_type +
                            "</instanceType><location>eu-west-1a</location></item><item><instanceType>" +
                            offered_type + "</instanceType><location>eu-west-1b</location></item>"
                            "</instanceTypeOfferingSet>");
    if (action == "DescribeVpcs") {
      std::string vpcs;
      for (int i = 0; i < vpcs_in_use; ++i) vpcs += "<item><vpcId>vpc-" + std::to_string(i) + "</vpcId></item>";
      return ec2_answer(action, "<vpcSet>" + vpcs + "</vpcSet>");
    }
    if (action == "DescribeAddresses") return ec2_answer(action, "<addressesSet/>");
    if (action == "GetServiceQuota" || action == "GetAWSDefaultServiceQuota") {
      json asked = json::parse(r.body);
      // Never adjusted in this account: only its default is known.
      if (action == "GetServiceQuota" && asked["QuotaCode"] == "L-1194D53C")
        return {400, {{"Content-Type", "application/x-amz-json-1.1"}},
                R"({"__type": "NoSuchResourceException", "message": "The request failed because the specified service quota does not exist."})"};
      double value = asked["QuotaCode"] == "L-F678F1CE" ? 5 : 100;
      return {200, {{"Content-Type", "application/x-amz-json-1.1"}},
              json{{"Quota", {{"QuotaCode", asked["QuotaCode"]}, {"Value", value}}}}.dump()};
    }
    return query_error(400, "InvalidAction", "not in the stand-in: " + action);
  }


}  // namespace byoc::testing
