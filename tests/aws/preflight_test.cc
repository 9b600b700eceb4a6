// The pre-flight against a stand-in AWS: it assumes the customer's role with
// the ExternalId, simulates every statement of byoc's onboarding policies in
// a context that meets its conditions, and names each thing in the way — a
// permission the deployed role lacks, a zone, an instance type not offered,
// a quota already used up — and, with the role refused, nothing but that.
#include "cloud/aws/preflight.h"

#include <gtest/gtest.h>

#include <set>

#include "base/files.h"
#include "cli_fixture.h"
#include "cloud/aws/templates/onboarding_template.h"
#include "cloud/aws/templates/vendor_actions.h"
#include "fake_aws.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {
using byoc::testing::CannedResponse;
using byoc::testing::FakeAws;
using byoc::testing::RecordedRequest;
using nlohmann::json;

constexpr const char* kRole = "arn:aws:iam::123456789012:role/ByocManagementRole";

CannedResponse ec2_answer(const std::string& operation, const std::string& inner) {
  return {200,
          {{"Content-Type", "text/xml"}},
          "<" + operation + "Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>" +
              inner + "</" + operation + "Response>"};
}

// The values of a query list parameter (NAME.member.1, NAME.member.2…).
std::vector<std::string> members(std::map<std::string, std::string>& form, const std::string& name) {
  std::vector<std::string> out;
  for (int i = 1; form.count(name + ".member." + std::to_string(i)); ++i)
    out.push_back(form[name + ".member." + std::to_string(i)]);
  return out;
}

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

bool policy_allows(const std::string& action, const std::string& resource,
                   const std::map<std::string, std::vector<std::string>>& context) {
  static const json policies = onboarding_policy_documents("");
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
class StandInAccount {
 public:
  std::string denied_action = "cloudformation:CreateStack";
  bool trust_refused = false;
  std::vector<std::string> simulated;  // every ActionNames entry asked about

  CannedResponse operator()(const RecordedRequest& r) {
    std::string action = r.action();
    if (r.method == "GET" && r.target.rfind("/clusters", 0) == 0)
      return {200, {{"Content-Type", "application/json"}}, R"({"clusters": ["other"]})"};
    if (action == "AssumeRole") {
      if (trust_refused)
        return byoc::testing::query_error(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole");
      return byoc::testing::query_answer(
          "AssumeRole",
          "<Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>rs</SecretAccessKey>"
          "<SessionToken>rt</SessionToken><Expiration>2027-01-15T09:00:00Z</Expiration></Credentials>");
    }
    if (action == "GetCallerIdentity")
      return byoc::testing::query_answer(
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
      return byoc::testing::query_answer("SimulatePrincipalPolicy",
                                         "<EvaluationResults>" + results + "</EvaluationResults><IsTruncated>false</IsTruncated>",
                                         "https://iam.amazonaws.com/doc/2010-05-08/");
    }
    if (action == "DescribeAvailabilityZones")
      return ec2_answer(action,
                        "<availabilityZoneInfo><item><zoneName>eu-west-1a</zoneName><zoneState>available</zoneState></item>"
                        "<item><zoneName>eu-west-1b</zoneName><zoneState>available</zoneState></item></availabilityZoneInfo>");
    if (action == "DescribeInstanceTypeOfferings")
      return ec2_answer(action,
                        "<instanceTypeOfferingSet><item><instanceType>m6i.xlarge</instanceType><location>eu-west-1a</location>"
                        "</item><item><instanceType>m6i.xlarge</instanceType><location>eu-west-1b</location></item>"
                        "</instanceTypeOfferingSet>");
    if (action == "DescribeVpcs") {
      std::string vpcs;
      for (int i = 0; i < 5; ++i) vpcs += "<item><vpcId>vpc-" + std::to_string(i) + "</vpcId></item>";
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
    return byoc::testing::query_error(400, "InvalidAction", "not in the stand-in: " + action);
  }
};

class PreflightTest : public ::testing::Test {
 protected:
  PreflightTest() {
    fake.set_handler([this](const RecordedRequest& r) { return account(r); });
  }
  ClientOptions base() {
    ClientOptions o;
    o.region = "eu-west-1";
    o.env = [this](std::string_view name) -> std::optional<std::string> {
      if (name == "AWS_ENDPOINT_URL") return fake.url();
      return std::nullopt;
    };
    o.credentials = static_credentials({"AKIAPLANE", "plane-secret", "", std::nullopt, "test"});
    o.transport = transport.get();
    o.clock = &clock;
    o.sleep = [this](std::chrono::milliseconds d) { clock.advance(d); };
    return o;
  }
  PreflightRequest request() {
    PreflightRequest r;
    r.role_arn = kRole;
    r.external_id = "byoc-ext-0123456789";
    r.session_name = "op-0000000000000001";
    r.region = "eu-west-1";
    r.zones = {"eu-west-1a", "eu-west-1b", "eu-west-1c"};
    r.instance_types = {"m6i.xlarge"};
    return r;
  }

  StandInAccount account;
  FakeAws fake{nullptr};
  std::unique_ptr<Transport> transport = make_curl_transport(fake.ca_pem());
  ManualClock clock{1'800'000'000};
};

TEST_F(PreflightTest, NamesEachThingInTheWayAndSimulatesEveryActionTheTemplateGrants) {
  PreflightReport report = run_preflight(request(), base());
  EXPECT_EQ(report.account, "123456789012");
  std::vector<PreflightFinding> expected = {
      {"permission_missing", "cloudformation:CreateStack", ""},
      {"zone_unavailable", "eu-west-1c", ""},
      {"instance_type_not_offered", "m6i.xlarge@eu-west-1c", ""},
      {"quota_too_low", "L-F678F1CE", ""},
  };
  ASSERT_EQ(report.findings.size(), expected.size()) << report.to_json().dump(1);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(report.findings[i].code, expected[i].code) << i;
    EXPECT_EQ(report.findings[i].subject, expected[i].subject) << i;
    EXPECT_FALSE(report.findings[i].message.empty());
  }
  EXPECT_NE(report.findings[3].message.find("5 in use"), std::string::npos) << report.findings[3].message;
  // Every action the onboarding template grants was asked about.
  std::vector<std::string> all = vendor_actions();
  EXPECT_EQ(std::set<std::string>(account.simulated.begin(), account.simulated.end()),
            std::set<std::string>(all.begin(), all.end()));
  EXPECT_EQ(report.actions_simulated, static_cast<int>(account.simulated.size()));
  EXPECT_EQ(report.quotas_checked, 5);
  // The role was assumed with the ExternalId, and everything after with what it gave.
  auto sent = fake.requests();
  ASSERT_FALSE(sent.empty());
  auto assume = sent.front().form();
  EXPECT_EQ(assume["Action"], "AssumeRole");
  EXPECT_EQ(assume["ExternalId"], "byoc-ext-0123456789");
  EXPECT_EQ(assume["RoleSessionName"], "op-0000000000000001");
  EXPECT_NE(sent.front().header("authorization").find("Credential=AKIAPLANE/"), std::string::npos);
  for (size_t i = 1; i < sent.size(); ++i)
    EXPECT_NE(sent[i].header("authorization").find("Credential=ASIAROLE/"), std::string::npos) << sent[i].target;
  for (const auto& r : sent) EXPECT_EQ(r.action().rfind("Create", 0), std::string::npos) << "read-only: " << r.action();
  // What the pre-flight does as the role, the onboarding template grants.
  std::vector<std::string> granted = vendor_actions();
  for (size_t i = 1; i < sent.size(); ++i) {
    std::string authz = sent[i].header("authorization");
    std::string scope = authz.substr(authz.find('/') + 1);  // DATE/REGION/SERVICE/aws4_request, …
    scope = scope.substr(scope.find('/') + 1);
    scope = scope.substr(scope.find('/') + 1);
    std::string service = scope.substr(0, scope.find('/'));
    std::string action = sent[i].action();
    if (service == "eks") action = sent[i].target.find('/', 1) == std::string::npos ? "ListClusters" : "DescribeCluster";
    EXPECT_NE(std::find(granted.begin(), granted.end(), service + ":" + action), granted.end())
        << service << ":" << action << " is called but not granted";
  }
}

TEST_F(PreflightTest, ARefusedRoleIsTheOneFindingAndNothingElseIsAsked) {
  account.trust_refused = true;
  PreflightReport report = run_preflight(request(), base());
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].code, "assume_role_denied");
  EXPECT_NE(report.findings[0].message.find("ExternalId"), std::string::npos);
  EXPECT_EQ(fake.requests().size(), 1u);
}

TEST_F(PreflightTest, AllInOrderIsOk) {
  account.denied_action = "";
  PreflightRequest r = request();
  r.zones = {"eu-west-1a", "eu-west-1b"};
  r.new_vpc = false;
  EXPECT_TRUE(run_preflight(r, base()).ok()) << run_preflight(r, base()).to_json().dump(1);
}

TEST_F(PreflightTest, ABadRoleArnIsRefusedBeforeAnyCall) {
  PreflightRequest r = request();
  r.role_arn = "arn:aws:iam::12345:role/x";
  EXPECT_EQ(byoc::testing::error_code([&] { run_preflight(r, base()); }), "invalid_arn");
  EXPECT_TRUE(fake.requests().empty());
}

TEST(PreflightPlan, EachStatementsContextMeetsItsConditions) {
  json policies = onboarding_policy_documents("");
  std::vector<Simulation> plan = plan_simulations(policies, "123456789012", "eu-west-1", "ByocManagementRole");
  size_t statements = 0;
  for (const auto& [name, document] : policies.items()) statements += document["Statement"].size();
  ASSERT_EQ(plan.size(), statements);
  bool saw_request_tag = false, saw_pass_role = false;
  for (const auto& s : plan) {
    for (const auto& r : s.resources) {
      EXPECT_EQ(r.find("${"), std::string::npos) << r;
      if (r == "*") continue;
      EXPECT_EQ(r.rfind("arn:aws:", 0), 0u) << r;
      EXPECT_EQ(r.find('*'), std::string::npos) << "a concrete resource: " << r;
    }
    for (const auto& entry : s.context) {
      std::string key = entry["ContextKeyName"];
      if (key == "aws:RequestTag/byoc") {
        EXPECT_EQ(entry["ContextKeyValues"], json::array({"true"}));
        saw_request_tag = true;
      }
      if (key == "iam:PassedToService") saw_pass_role = true;
      if (key == "aws:TagKeys") EXPECT_EQ(entry["ContextKeyType"], "stringList");
    }
  }
  EXPECT_TRUE(saw_request_tag);
  EXPECT_TRUE(saw_pass_role);
  // And each question, put to the policies as deployed, is allowed: the
  // contexts meet the conditions, the example resources fall in the fences.
  for (const auto& s : plan) {
    std::map<std::string, std::vector<std::string>> context;
    for (const auto& entry : s.context)
      context[entry["ContextKeyName"]] = entry["ContextKeyValues"].get<std::vector<std::string>>();
    for (const auto& action : s.actions)
      for (const auto& resource : s.resources)
        EXPECT_TRUE(policy_allows(action, resource, context)) << action << " on " << resource;
  }
}

}  // namespace
}  // namespace byoc::aws

namespace byoc::cli {
namespace {

// `byoc aws preflight` configured as the AWS CLI is: endpoint, CA bundle,
// keys and region from the environment.
class AwsPreflightCliTest : public AwsCliFixture {
 protected:
  AwsPreflightCliTest() {
    fake.set_handler([this](const byoc::testing::RecordedRequest& r) { return account(r); });
    files::write_atomic(home_.path() / "ca.pem", fake.ca_pem(), 0600);
  }
  std::map<std::string, std::string> env() {
    return {{"HOME", home_.path().string()},
            {"AWS_ENDPOINT_URL", fake.url()},
            {"AWS_CA_BUNDLE", (home_.path() / "ca.pem").string()},
            {"AWS_ACCESS_KEY_ID", "AKIAPLANE"},
            {"AWS_SECRET_ACCESS_KEY", "plane-secret"},
            {"AWS_REGION", "eu-west-1"},
            {"AWS_EC2_METADATA_DISABLED", "true"}};
  }
  CliResult run_with(const std::map<std::string, std::string>& vars, std::vector<std::string> args) {
    std::ostringstream out, err;
    Io io{out, err, clock_, false, map_env(vars)};
    int code = run(args, io);
    return {code, out.str(), err.str()};
  }
  std::vector<std::string> args() {
    return {"aws", "preflight", "--role-arn", aws::kRole, "--external-id", "byoc-ext-0123456789",
            "--zones", "eu-west-1a,eu-west-1b,eu-west-1c", "--instance-types", "m6i.xlarge"};
  }

  aws::StandInAccount account;
  byoc::testing::FakeAws fake{nullptr};
};

TEST_F(AwsPreflightCliTest, PrintsTheReportAndEachFindingAndFailsWithFindings) {
  CliResult r = run_with(env(), args());
  EXPECT_EQ(r.code, 1) << r.err;
  nlohmann::json report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(report["account"], "123456789012");
  EXPECT_EQ(report["findings"].size(), 4u) << r.out;
  EXPECT_NE(r.err.find("permission_missing: the role may not cloudformation:CreateStack"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("plane-secret"), std::string::npos);
  auto sent = fake.requests();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].form()["RoleSessionName"].rfind("byoc-preflight-", 0), 0u);
}

TEST_F(AwsPreflightCliTest, AllInOrderExitsZero) {
  account.denied_action = "";
  std::vector<std::string> a = args();
  a[7] = "eu-west-1a,eu-west-1b";
  a.push_back("--existing-vpc");
  CliResult r = run_with(env(), a);
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["ok"], true);
}

TEST_F(AwsPreflightCliTest, NoCredentialsIsOneErrorLine) {
  auto vars = env();
  vars.erase("AWS_ACCESS_KEY_ID");
  vars.erase("AWS_SECRET_ACCESS_KEY");
  CliResult r = run_with(vars, args());
  expect_one_error_line(r);
  EXPECT_TRUE(fake.requests().empty());
}

TEST_F(AwsPreflightCliTest, AnUntrustedEndpointIsOneErrorLine) {
  auto vars = env();
  vars.erase("AWS_CA_BUNDLE");  // the system store does not know the stand-in's CA
  CliResult r = run_with(vars, args());
  expect_one_error_line(r);
}

}  // namespace
}  // namespace byoc::cli
