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
#include "stand_in_account.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {
using byoc::testing::CannedResponse;
using byoc::testing::FakeAws;
using byoc::testing::RecordedRequest;
using nlohmann::json;

constexpr const char* kRole = "arn:aws:iam::123456789012:role/ByocManagementRole";
using byoc::testing::StandInAccount;

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
        EXPECT_TRUE(byoc::testing::policy_allows(action, resource, context)) << action << " on " << resource;
  }
}

// The role, as deployed, lets CloudFormation run the VPC CNI add-on of a
// byoc cluster (what enforces the services' NetworkPolicies), and nobody
// else's: the create tags it byoc=true, the rest needs that tag.
TEST(PreflightPlan, TheOnboardingRoleRunsTheVpcCniAddOnOfAByocClusterOnly) {
  using Context = std::map<std::string, std::vector<std::string>>;
  const std::string cluster = "arn:aws:eks:eu-west-1:123456789012:cluster/byoc-prod";
  const std::string addon = "arn:aws:eks:eu-west-1:123456789012:addon/byoc-prod/vpc-cni/0ac1b2c3-d4e5";
  const std::string others = "arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/0ac1b2c3-d4e5";
  const Context tagging = {{"aws:RequestTag/byoc", {"true"}}, {"aws:TagKeys", {"byoc", "Name"}}};
  const Context tagged = {{"aws:ResourceTag/byoc", {"true"}}};
  EXPECT_TRUE(byoc::testing::policy_allows("eks:CreateAddon", cluster, tagging));
  EXPECT_TRUE(byoc::testing::policy_allows("eks:CreateAddon", addon, tagging));
  EXPECT_FALSE(byoc::testing::policy_allows("eks:CreateAddon", cluster, {}));  // untagged
  for (std::string action : {"eks:UpdateAddon", "eks:DeleteAddon", "eks:TagResource", "eks:UntagResource"}) {
    Context context = tagged;
    if (action == "eks:TagResource") context["aws:RequestTag/byoc"] = {"true"};
    if (action == "eks:UntagResource") context["aws:TagKeys"] = {"Name"};
    EXPECT_TRUE(byoc::testing::policy_allows(action, addon, context)) << action;
    EXPECT_FALSE(byoc::testing::policy_allows(action, addon, {})) << action << " on an untagged add-on";
    EXPECT_FALSE(byoc::testing::policy_allows(action, others, context)) << action << " outside byoc- clusters";
  }
  for (std::string read : {"eks:DescribeAddon", "eks:ListTagsForResource", "eks:DescribeUpdate"}) {
    EXPECT_TRUE(byoc::testing::policy_allows(read, addon, {})) << read;
    EXPECT_FALSE(byoc::testing::policy_allows(read, others, {})) << read;
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

  byoc::testing::StandInAccount account;
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
