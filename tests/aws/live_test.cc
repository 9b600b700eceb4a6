// Against real AWS, only when asked: BYOC_AWS_LIVE=1 with credentials as the
// AWS CLI finds them (AWS_PROFILE, AWS_ACCESS_KEY_ID…, AWS_REGION). Read-only:
// who the plane is, a stack that doesn't exist read as "none" (the driver's
// reading of CloudFormation's answer), EKS's cluster list; with
// BYOC_AWS_LIVE_ROLE_ARN and BYOC_AWS_LIVE_EXTERNAL_ID, the whole pre-flight
// of that onboarding role. Otherwise every test prints "skipped".
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "cloud/aws/client.h"
#include "cloud/aws/preflight.h"
#include "cloud/aws/session.h"
#include "cloud/aws/sts.h"

namespace byoc::aws {
namespace {

std::optional<std::string> variable(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  return v && *v ? std::optional<std::string>(v) : std::nullopt;
}

class AwsLive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (variable("BYOC_AWS_LIVE").value_or("") != "1") {
      std::cout << "skipped: set BYOC_AWS_LIVE=1 (and AWS credentials) to run against real AWS\n";
      GTEST_SKIP();
    }
    session = std::make_unique<Session>(variable, clock, variable("AWS_REGION").value_or("us-east-1"));
  }
  SystemClock clock;
  std::unique_ptr<Session> session;
};

TEST_F(AwsLive, ThePlaneKnowsWhoItIs) {
  ClientOptions o = session->options(Service::kSts);
  CallerIdentity me = Sts(o).caller_identity(o.credentials);
  std::cout << "account " << me.account << ", " << me.arn << "\n";
  EXPECT_EQ(me.account.size(), 12u);
}

TEST_F(AwsLive, AStackThatDoesNotExistIsAnsweredAsTheDriverExpects) {
  Client cfn(session->options(Service::kCloudFormation));
  try {
    cfn.call("DescribeStacks", {{"StackName", "byoc-live-test-no-such-stack"}});
    FAIL() << "a stack that doesn't exist was found";
  } catch (const AwsCallError& e) {
    EXPECT_EQ(e.aws().code, "ValidationError");
    EXPECT_NE(e.aws().message.find("does not exist"), std::string::npos) << e.aws().message;
  }
}

TEST_F(AwsLive, EksListsClusters) {
  Client eks(session->options(Service::kEks));
  nlohmann::json clusters = eks.call("ListClusters", nlohmann::json::object());
  EXPECT_TRUE(clusters.value("clusters", nlohmann::json::array()).is_array()) << clusters;
}

TEST_F(AwsLive, TheOnboardingRolesPreflight) {
  auto role = variable("BYOC_AWS_LIVE_ROLE_ARN"), external_id = variable("BYOC_AWS_LIVE_EXTERNAL_ID");
  if (!role || !external_id) {
    std::cout << "skipped: set BYOC_AWS_LIVE_ROLE_ARN and BYOC_AWS_LIVE_EXTERNAL_ID to check an onboarding role\n";
    GTEST_SKIP();
  }
  PreflightRequest r;
  r.role_arn = *role;
  r.external_id = *external_id;
  r.session_name = "byoc-live-test";
  r.region = session->region();
  r.zones = {r.region + "a", r.region + "b"};
  r.instance_types = {"m7gd.xlarge"};
  r.nat_gateways = 2;
  PreflightReport report = run_preflight(r, session->options(Service::kSts));
  std::cout << report.to_json().dump(2) << "\n";
  for (const auto& f : report.findings) EXPECT_NE(f.code, "assume_role_denied") << f.message;
}

}  // namespace
}  // namespace byoc::aws
