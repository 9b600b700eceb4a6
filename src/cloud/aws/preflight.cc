#include "cloud/aws/preflight.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>
#include <set>

#include "base/error.h"
#include "cloud/aws/sts.h"
#include "cloud/aws/templates/onboarding_template.h"
#include "plan/catalogue.h"

namespace byoc::aws {
namespace {

using nlohmann::json;

// What a wildcard in a resource pattern or a condition stands for: a name
// byoc would give (every byoc name starts with byoc-).
constexpr const char* kExampleName = "byoc-preflight";

// Fn::Sub's pseudo parameters, the only substitutions the onboarding
// policies use; anything else stands for a byoc name.
std::string substitute(std::string text, const std::string& account, const std::string& region) {
  const std::map<std::string, std::string> values = {
      {"AWS::AccountId", account}, {"AWS::Region", region}, {"AWS::Partition", partition_of(region)}};
  for (size_t start; (start = text.find("${")) != std::string::npos;) {
    size_t end = text.find('}', start);
    if (end == std::string::npos) break;
    auto it = values.find(text.substr(start + 2, end - start - 2));
    text.replace(start, end - start + 1, it == values.end() ? kExampleName : it->second);
  }
  return text;
}

std::string resolved(const json& value, const std::string& account, const std::string& region) {
  if (value.is_string()) return substitute(value.get<std::string>(), account, region);
  if (value.is_object() && value.contains("Fn::Sub") && value["Fn::Sub"].is_string())
    return substitute(value["Fn::Sub"].get<std::string>(), account, region);
  throw Error::Internal("the onboarding policy holds a value the pre-flight can't resolve: " + value.dump());
}

// A concrete ARN for a pattern: a wildcard region or account is the
// environment's, a wildcard in the resource part a byoc name.
std::string example_arn(const std::string& pattern, const std::string& account, const std::string& region) {
  if (pattern == "*") return pattern;
  std::vector<std::string> fields;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = pattern.find(':', start);
    if (colon == std::string::npos) break;
    fields.push_back(pattern.substr(start, colon - start));
    start = colon + 1;
  }
  std::string resource = pattern.substr(start);
  if (fields.size() != 5) return pattern;
  if (fields[3] == "*") fields[3] = region;
  if (fields[4] == "*") fields[4] = account;
  for (size_t star; (star = resource.find('*')) != std::string::npos;) resource.replace(star, 1, kExampleName);
  return fields[0] + ":" + fields[1] + ":" + fields[2] + ":" + fields[3] + ":" + fields[4] + ":" + resource;
}

// A request context that meets `condition` (a policy statement's Condition
// block): for each key, a value the operator admits.
json satisfying_context(const json& condition, const std::string& account, const std::string& region) {
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> entries;  // key -> (type, values)
  for (const auto& [op, keys] : condition.items()) {
    for (const auto& [key, admitted] : keys.items()) {
      std::vector<std::string> values;
      if (admitted.is_array())
        for (const auto& v : admitted) values.push_back(resolved(v, account, region));
      else
        values.push_back(resolved(admitted, account, region));
      if (op.rfind("ForAllValues:", 0) == 0 && op.find("Not") != std::string::npos) {
        // Every value must differ from the listed ones: one that does.
        entries[key] = {"stringList", {std::find(values.begin(), values.end(), "Name") == values.end() ? "Name"
                                                                                                        : kExampleName}};
      } else if (op.rfind("ForAnyValue:", 0) == 0 || op.rfind("ForAllValues:", 0) == 0) {
        entries[key] = {"stringList", values};
      } else if (!entries.count(key)) {
        entries[key] = {"string", {values.front()}};
      }
    }
  }
  json context = json::array();
  for (const auto& [key, typed] : entries)
    context.push_back({{"ContextKeyName", key}, {"ContextKeyType", typed.first}, {"ContextKeyValues", typed.second}});
  return context;
}

std::vector<std::string> strings_of(const json& value) {
  if (value.is_string()) return {value.get<std::string>()};
  std::vector<std::string> out;
  for (const auto& v : value) out.push_back(v.get<std::string>());
  return out;
}

// Pages through a list operation: `next` names the token member in both the
// request and the answer.
void each_page(Client& client, const std::string& operation, json params, const std::string& next,
               const std::function<void(const json&)>& page) {
  for (int pages = 0; pages < 100; ++pages) {  // bounded: 100 pages is far beyond any account
    json answer = client.call(operation, params);
    page(answer);
    if (!answer.contains(next) || !answer[next].is_string() || answer[next].get<std::string>().empty()) return;
    params[next] = answer[next];
  }
}

// A type's vCPUs: the catalogue's, else EC2's naming convention for the
// size (medium 1, large 2, xlarge 4, Nxlarge 4N); 0 when neither says.
int vcpus_of(const std::string& type) {
  if (const plan::InstanceType* t = plan::Catalogue::builtin().find(type)) return t->vcpu;
  std::string size = type.substr(type.find('.') + 1);
  if (size == "medium") return 1;
  if (size == "large") return 2;
  if (size == "xlarge") return 4;
  if (size.size() > 6 && size.ends_with("xlarge")) {
    std::string n = size.substr(0, size.size() - 6);
    if (n.size() <= 3 && std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return 4 * std::stoi(n);
  }
  return 0;
}

struct Quota {
  const char* service;
  const char* code;
  const char* what;
};

}  // namespace

std::string partition_of(const std::string& region) {
  if (region.rfind("cn-", 0) == 0) return "aws-cn";
  if (region.rfind("us-gov-", 0) == 0) return "aws-us-gov";
  return "aws";
}

json PreflightReport::to_json() const {
  json f = json::array();
  for (const auto& x : findings) f.push_back({{"code", x.code}, {"subject", x.subject}, {"message", x.message}});
  return {{"ok", ok()},
          {"account", account},
          {"actions_simulated", actions_simulated},
          {"quotas_checked", quotas_checked},
          {"findings", f}};
}

std::vector<Simulation> plan_simulations(const json& policies, const std::string& account, const std::string& region) {
  std::vector<Simulation> out;
  for (const auto& [name, document] : policies.items()) {
    for (const auto& statement : document.at("Statement")) {
      if (statement.value("Effect", "") != "Allow") continue;
      Simulation s;
      s.actions = strings_of(statement.at("Action"));
      const json& resources = statement.at("Resource");
      for (const auto& r : resources.is_array() ? resources : json::array({resources}))
        s.resources.push_back(example_arn(resolved(r, account, region), account, region));
      if (statement.contains("Condition")) s.context = satisfying_context(statement["Condition"], account, region);
      out.push_back(std::move(s));
    }
  }
  return out;
}

PreflightReport run_preflight(const PreflightRequest& request, const ClientOptions& base) {
  PreflightReport report;
  auto finding = [&](std::string code, std::string subject, std::string message) {
    report.findings.push_back({std::move(code), std::move(subject), std::move(message)});
  };
  static const std::regex role_arn_form(R"(arn:aws(-[a-z]+)*:iam::(\d{12}):role/[\w+=,.@/-]{1,512})");
  std::smatch parts;
  if (!std::regex_match(request.role_arn, parts, role_arn_form))
    throw Error::Invalid("invalid_arn", "`" + request.role_arn + "` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                         "role_arn");
  const std::string expected_account = parts[2];
  if (!base.credentials)
    throw Error(ErrorKind::kUnavailable, "aws_credentials_unavailable",
                "the management plane has no AWS credentials to assume the customer's role with");

  // 1. Into the customer's account.
  Credentials assumed;
  try {
    Sts sts(base);
    assumed = sts.assume_role({request.role_arn, request.session_name, request.external_id, std::chrono::seconds(900)},
                              base.credentials->credentials());
  } catch (const AwsCallError& e) {
    finding("assume_role_denied", request.role_arn,
            "byoc could not assume " + request.role_arn + " (" + e.aws().code + ": " + e.aws().message +
                "): deploy the onboarding stack with this environment's ExternalId, or check the role's name");
    return report;
  }
  ClientOptions as_role = base;
  as_role.credentials = static_credentials(assumed);
  auto client = [&](Service service) {
    ClientOptions o = as_role;
    o.service = service;
    return Client(o);
  };
  CallerIdentity identity = Sts(as_role).caller_identity(as_role.credentials);
  report.account = identity.account;
  if (identity.account != expected_account)
    finding("wrong_account", identity.account,
            "the role answered from account " + identity.account + ", not " + expected_account);

  // 2. Every statement of the onboarding policies, as the role has them.
  Client iam = client(Service::kIam);
  const std::string role_arn = request.role_arn;
  std::set<std::string> missing;
  for (const Simulation& s : plan_simulations(onboarding_policy_documents(request.permissions_boundary),
                                              expected_account, request.region)) {
    json params = {{"PolicySourceArn", role_arn}, {"ActionNames", s.actions}, {"ResourceArns", s.resources},
                   {"MaxItems", 1000}};
    if (!s.context.empty()) params["ContextEntries"] = s.context;
    report.actions_simulated += static_cast<int>(s.actions.size());
    each_page(iam, "SimulatePrincipalPolicy", params, "Marker", [&](const json& page) {
      for (const auto& r : page.value("EvaluationResults", json::array())) {
        std::string action = r.value("EvalActionName", "");
        std::string decision = r.value("EvalDecision", "");
        if (decision == "allowed" || !missing.insert(action).second) continue;
        std::string message = "the role may not " + action + " on " + r.value("EvalResourceName", "*") + " (" +
                              decision + ")";
        if (r.contains("MissingContextValues") && !r["MissingContextValues"].empty())
          message += "; missing context: " + r["MissingContextValues"].dump();
        finding("permission_missing", action, message + ": update the onboarding stack to byoc's current template");
      }
    });
  }

  // 3. Zones and instance types.
  Client ec2 = client(Service::kEc2);
  std::map<std::string, std::string> zone_state;
  json zones = ec2.call("DescribeAvailabilityZones", json::object());
  for (const auto& z : zones.value("AvailabilityZones", json::array()))
    zone_state[z.value("ZoneName", "")] = z.value("State", "");
  for (const auto& zone : request.zones)
    if (zone_state[zone] != "available")
      finding("zone_unavailable", zone,
              zone + " is " + (zone_state[zone].empty() ? "not a zone of " + request.region : zone_state[zone]) +
                  " for this account");
  if (!request.instance_types.empty() && !request.zones.empty()) {
    std::set<std::pair<std::string, std::string>> offered;
    each_page(ec2, "DescribeInstanceTypeOfferings",
              {{"LocationType", "availability-zone"},
               {"Filters", json::array({{{"Name", "instance-type"}, {"Values", request.instance_types}},
                                        {{"Name", "location"}, {"Values", request.zones}}})}},
              "NextToken", [&](const json& page) {
                for (const auto& o : page.value("InstanceTypeOfferings", json::array()))
                  offered.insert({o.value("InstanceType", ""), o.value("Location", "")});
              });
    for (const auto& type : request.instance_types)
      for (const auto& zone : request.zones)
        if (!offered.count({type, zone}))
          finding("instance_type_not_offered", type + "@" + zone, type + " is not offered in " + zone);
  }

  // 4. Quotas, against what is already used where EC2 and EKS tell.
  Client quotas = client(Service::kServiceQuotas);
  auto quota = [&](const Quota& q) -> std::optional<double> {
    try {
      json answer = quotas.call("GetServiceQuota", {{"ServiceCode", q.service}, {"QuotaCode", q.code}});
      ++report.quotas_checked;
      return answer.at("Quota").at("Value").get<double>();
    } catch (const AwsCallError& e) {
      // Never adjusted in this account: Service Quotas may not know it; the
      // create will tell.
      if (e.aws().code == "NoSuchResourceException") return std::nullopt;
      throw;
    }
  };
  auto check = [&](const Quota& q, double used, double needed) {
    std::optional<double> limit = quota(q);
    if (limit && used + needed > *limit)
      finding("quota_too_low", q.code,
              std::string(q.what) + ": the quota is " + std::to_string(static_cast<int64_t>(*limit)) + ", " +
                  std::to_string(static_cast<int64_t>(used)) + " in use and byoc needs " +
                  std::to_string(static_cast<int64_t>(needed)) + " more: ask AWS for an increase of " + q.code);
  };
  if (request.new_vpc) {
    int vpcs = 0;
    each_page(ec2, "DescribeVpcs", json::object(), "NextToken",
              [&](const json& page) { vpcs += static_cast<int>(page.value("Vpcs", json::array()).size()); });
    check({"vpc", "L-F678F1CE", "VPCs per region"}, vpcs, 1);
  }
  if (request.nat_gateways > 0) {
    json addresses = ec2.call("DescribeAddresses", json::object());
    check({"ec2", "L-0263D0A3", "Elastic IP addresses"},
          static_cast<double>(addresses.value("Addresses", json::array()).size()), request.nat_gateways);
    check({"vpc", "L-FE5A380F", "NAT gateways per zone"}, 0, 1);
  }
  int clusters = 0;
  Client eks = client(Service::kEks);
  each_page(eks, "ListClusters", json::object(), "nextToken",
            [&](const json& page) { clusters += static_cast<int>(page.value("clusters", json::array()).size()); });
  check({"eks", "L-1194D53C", "EKS clusters per region"}, clusters, 1);
  // One node of the largest standard type must be able to start.
  int vcpus = 0;
  // (Standard families only: G, P, X, Inf… have quotas of their own.)
  for (const auto& type : request.instance_types)
    if (!type.empty() && std::string("acdhimrtz").find(type.front()) != std::string::npos)
      vcpus = std::max(vcpus, vcpus_of(type));
  if (vcpus > 0) check({"ec2", "L-1216C47A", "On-Demand standard instance vCPUs"}, 0, vcpus);
  return report;
}

}  // namespace byoc::aws
