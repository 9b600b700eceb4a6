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

// What the onboarding policies' Fn::Sub patterns name: the pseudo
// parameters and the role's own name; anything else stands for a byoc name.
using Values = std::map<std::string, std::string>;

std::string substitute(std::string text, const Values& values) {
  for (size_t start; (start = text.find("${")) != std::string::npos;) {
    size_t end = text.find('}', start);
    if (end == std::string::npos) break;
    auto it = values.find(text.substr(start + 2, end - start - 2));
    text.replace(start, end - start + 1, it == values.end() ? kExampleName : it->second);
  }
  return text;
}

std::string resolved(const json& value, const Values& values) {
  if (value.is_string()) return substitute(value.get<std::string>(), values);
  if (value.is_object() && value.contains("Fn::Sub") && value["Fn::Sub"].is_string())
    return substitute(value["Fn::Sub"].get<std::string>(), values);
  throw Error::Internal("the onboarding policy holds a value the pre-flight can't resolve: " + value.dump());
}

// A concrete ARN for a pattern: a wildcard region or account is the
// environment's, a wildcard in the resource part a byoc name.
std::string example_arn(const std::string& pattern, const Values& values) {
  const std::string& region = values.at("AWS::Region");
  const std::string& account = values.at("AWS::AccountId");
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
json satisfying_context(const json& condition, const Values& values_of) {
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> entries;  // key -> (type, values)
  for (const auto& [op, keys] : condition.items()) {
    for (const auto& [key, admitted] : keys.items()) {
      std::vector<std::string> values;
      if (admitted.is_array())
        for (const auto& v : admitted) values.push_back(resolved(v, values_of));
      else
        values.push_back(resolved(admitted, values_of));
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

// Whether a type's On-Demand vCPUs count against the standard-instances
// quota (A, C, D, H, I, M, R, T, Z families; not Inf, Trn, DL, HPC).
bool is_standard_family(const std::string& type) {
  std::string family = type.substr(0, type.find('.'));
  for (const char* own : {"inf", "trn", "dl", "hpc"})
    if (family.rfind(own, 0) == 0) return false;
  return !family.empty() && std::string("acdhimrtz").find(family.front()) != std::string::npos;
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

std::vector<Simulation> plan_simulations(const json& policies, const std::string& account, const std::string& region,
                                         const std::string& role_name) {
  const Values values = {{"AWS::AccountId", account},
                         {"AWS::Region", region},
                         {"AWS::Partition", partition_of(region)},
                         {"RoleName", role_name}};
  std::vector<Simulation> out;
  for (const auto& [name, document] : policies.items()) {
    for (const auto& statement : document.at("Statement")) {
      if (statement.value("Effect", "") != "Allow") continue;
      Simulation s;
      s.actions = strings_of(statement.at("Action"));
      const json& resources = statement.at("Resource");
      for (const auto& r : resources.is_array() ? resources : json::array({resources}))
        s.resources.push_back(example_arn(resolved(r, values), values));
      if (statement.contains("Condition")) s.context = satisfying_context(statement["Condition"], values);
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
  static const std::regex role_arn_form(R"(arn:aws(-[a-z]+)*:iam::(\d{12}):role/([\w+=,.@/-]{1,512}))");
  std::smatch parts;
  if (!std::regex_match(request.role_arn, parts, role_arn_form))
    throw Error::Invalid("invalid_arn", "`" + request.role_arn + "` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                         "role_arn");
  const std::string expected_account = parts[2];
  const std::string role_path_and_name = parts[3];
  const std::string role_name = role_path_and_name.substr(role_path_and_name.rfind('/') + 1);
  static const std::regex session_name_form(R"([\w+=,.@-]{2,64})");
  if (!std::regex_match(request.session_name, session_name_form))
    throw Error::Invalid("invalid_session_name", "a role session name is 2 to 64 of letters, digits and +=,.@-_",
                         "session_name");
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
  // Each check that can't be made is a finding of its own; the others go on.
  auto checked = [&](const std::string& what, const std::function<void()>& check) {
    try {
      check();
    } catch (const Error& e) {
      finding("check_failed", what, "could not check " + what + ": " + e.what());
    }
  };

  checked("the account", [&] {
    CallerIdentity identity = Sts(as_role).caller_identity(as_role.credentials);
    report.account = identity.account;
    if (identity.account != expected_account)
      finding("wrong_account", identity.account,
              "the role answered from account " + identity.account + ", not " + expected_account);
  });

  // 2. Every statement of the onboarding policies, as the role has them.
  Client iam = client(Service::kIam);
  std::set<std::string> missing;
  for (const Simulation& s : plan_simulations(onboarding_policy_documents(request.permissions_boundary),
                                              expected_account, request.region, role_name)) {
    json params = {{"PolicySourceArn", request.role_arn}, {"ActionNames", s.actions}, {"ResourceArns", s.resources},
                   {"MaxItems", 1000}};
    if (!s.context.empty()) params["ContextEntries"] = s.context;
    report.actions_simulated += static_cast<int>(s.actions.size());
    checked("the permissions of " + s.actions.front(), [&] {
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
    });
  }

  // 3. Zones and instance types.
  Client ec2 = client(Service::kEc2);
  checked("the zones", [&] {
    std::map<std::string, std::string> zone_state;
    json zones = ec2.call("DescribeAvailabilityZones", json::object());
    for (const auto& z : zones.value("AvailabilityZones", json::array()))
      zone_state[z.value("ZoneName", "")] = z.value("State", "");
    for (const auto& zone : request.zones)
      if (zone_state[zone] != "available")
        finding("zone_unavailable", zone,
                zone + " is " + (zone_state[zone].empty() ? "not a zone of " + request.region : zone_state[zone]) +
                    " for this account");
  });
  if (!request.instance_types.empty() && !request.zones.empty()) {
    checked("the instance types", [&] {
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
    });
  }

  // 4. Quotas, against what is already used where EC2 and EKS tell.
  Client quotas = client(Service::kServiceQuotas);
  auto quota = [&](const Quota& q) -> double {
    json key = {{"ServiceCode", q.service}, {"QuotaCode", q.code}};
    json answer;
    try {
      answer = quotas.call("GetServiceQuota", key);
    } catch (const AwsCallError& e) {
      // Never adjusted in this account: Service Quotas knows only AWS's default.
      if (e.aws().code != "NoSuchResourceException") throw;
      answer = quotas.call("GetAWSDefaultServiceQuota", key);
    }
    ++report.quotas_checked;
    return answer.at("Quota").at("Value").get<double>();
  };
  auto check = [&](const Quota& q, const std::function<double()>& used, double needed) {
    checked(std::string(q.what) + " (" + q.code + ")", [&] {
      double limit = quota(q);
      double in_use = used();
      if (in_use + needed > limit)
        finding("quota_too_low", q.code,
                std::string(q.what) + ": the quota is " + std::to_string(static_cast<int64_t>(limit)) + ", " +
                    std::to_string(static_cast<int64_t>(in_use)) + " in use and byoc needs " +
                    std::to_string(static_cast<int64_t>(needed)) + " more: ask AWS for an increase of " + q.code);
    });
  };
  auto none_known = [] { return 0.0; };
  if (request.new_vpc) {
    check({"vpc", "L-F678F1CE", "VPCs per region"}, [&] {
      int vpcs = 0;
      each_page(ec2, "DescribeVpcs", json::object(), "NextToken",
                [&](const json& page) { vpcs += static_cast<int>(page.value("Vpcs", json::array()).size()); });
      return static_cast<double>(vpcs);
    }, 1);
  }
  if (request.nat_gateways > 0) {
    check({"ec2", "L-0263D0A3", "Elastic IP addresses"}, [&] {
      return static_cast<double>(ec2.call("DescribeAddresses", json::object()).value("Addresses", json::array()).size());
    }, request.nat_gateways);
    // Per zone, in a VPC byoc makes: only its own NAT gateway will be there.
    check({"vpc", "L-FE5A380F", "NAT gateways per zone"}, none_known, 1);
  }
  Client eks = client(Service::kEks);
  check({"eks", "L-1194D53C", "EKS clusters per region"}, [&] {
    int clusters = 0;
    each_page(eks, "ListClusters", json::object(), "nextToken",
              [&](const json& page) { clusters += static_cast<int>(page.value("clusters", json::array()).size()); });
    return static_cast<double>(clusters);
  }, 1);
  // What starts at once: the system node group's two nodes of the first
  // type, and one ClickHouse node of the largest (standard families only:
  // G, P, X, Inf, Trn… have quotas of their own). Running instances' vCPUs
  // aren't known without CloudWatch: the create will tell if they crowd it.
  int vcpus_needed = 0, largest = 0;
  for (size_t i = 0; i < request.instance_types.size(); ++i) {
    const std::string& type = request.instance_types[i];
    if (!is_standard_family(type)) continue;
    if (i == 0) vcpus_needed += 2 * vcpus_of(type);
    largest = std::max(largest, vcpus_of(type));
  }
  vcpus_needed += largest;
  if (vcpus_needed > 0) check({"ec2", "L-1216C47A", "On-Demand standard instance vCPUs"}, none_known, vcpus_needed);
  return report;
}

}  // namespace byoc::aws
