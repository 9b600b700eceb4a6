// `byoc aws onboarding-template` and `byoc aws infra-template` in-process:
// the template on stdout (JSON), the quick-create link or its absence on
// stderr, and a bad flag as one `error: …` line with a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_fixture.h"

namespace byoc::cli {
namespace {

class AwsTemplatesCliTest : public AwsCliFixture {
 protected:
  std::vector<std::string> infra_args() {
    return {"aws", "infra-template", "--name", "prod", "--region", "us-east-1", "--cidr", "10.0.0.0/20",
            "--zones", "us-east-1a,us-east-1b,us-east-1c", "--api-allowed-cidrs", "203.0.113.0/24",
            "--environment-id", "EnvA1B2", "--account", "444455556666"};
  }
};

TEST_F(AwsTemplatesCliTest, OnboardingPrintsTemplateAndQuickCreateLink) {
  auto r = run_cli({"aws", "onboarding-template", "--management-account", "111122223333", "--external-id", "ext-42",
                    "--template-url", "https://b.s3.amazonaws.com/o.json", "--region", "eu-west-1"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto t = nlohmann::json::parse(r.out);
  EXPECT_EQ(t["Parameters"]["ExternalId"]["Default"], "ext-42");
  EXPECT_EQ(r.err,
            "quick-create: https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate?"
            "templateURL=https%3A%2F%2Fb.s3.amazonaws.com%2Fo.json&stackName=byoc-onboarding&param_ExternalId=ext-42\n");
}

TEST_F(AwsTemplatesCliTest, OnboardingWithoutUrlSaysToUploadFirst) {
  auto r = run_cli({"aws", "onboarding-template", "--management-account", "111122223333", "--external-id", "ext-42"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NO_THROW(nlohmann::json::parse(r.out));
  EXPECT_NE(r.err.find("upload this template to S3"), std::string::npos) << r.err;
}

TEST_F(AwsTemplatesCliTest, OnboardingBadAccountIsOneLine) {
  expect_one_error_line(
      run_cli({"aws", "onboarding-template", "--management-account", "12", "--external-id", "ext-42"}));
  expect_one_error_line(run_cli({"aws", "onboarding-template", "--management-account", "111122223333",
                                 "--external-id", "ext-42", "--template-url", "http://x"}));
  expect_one_error_line(run_cli({"aws", "onboarding-template", "--management-account", "111122223333",
                                 "--external-id", "ext-42", "--role-name", "byoc-role"}));
}

TEST_F(AwsTemplatesCliTest, OnboardingWithPrincipalAndPeerAccount) {
  auto r = run_cli({"aws", "onboarding-template", "--management-account", "111122223333", "--external-id", "ext-42",
                    "--management-principal", "arn:aws:iam::111122223333:role/control", "--peer-account",
                    "777788889999"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto t = nlohmann::json::parse(r.out);
  EXPECT_EQ(t["Resources"]["ManagementRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
             ["AWS"],
            "arn:aws:iam::111122223333:role/control");
  EXPECT_TRUE(t["Resources"].contains("PeeringAccepterRole"));
  EXPECT_TRUE(t["Resources"].contains("NodeRole"));
}

TEST_F(AwsTemplatesCliTest, InfraPrintsTheStack) {
  auto args = infra_args();
  args.insert(args.end(), {"--nat", "single", "--peering"});
  auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.err;
  auto t = nlohmann::json::parse(r.out);
  EXPECT_EQ(t["Resources"]["Vpc"]["Properties"]["CidrBlock"], "10.0.0.0/20");
  EXPECT_TRUE(t["Resources"].contains("NatGateway1"));
  EXPECT_FALSE(t["Resources"].contains("NatGateway2"));
  // The node groups are the driver's, not the stack's.
  EXPECT_FALSE(t["Resources"].contains("NodegroupR7gXlarge"));
  EXPECT_EQ(t["Outputs"]["NodeGroups"]["Value"], "eks-api");
  EXPECT_TRUE(t["Resources"].contains("PeeringRoute1"));
  EXPECT_FALSE(t["Resources"].contains("PeeringAccepterRole"));  // the onboarding stack's
  // The environment id, lowercased, names the retained bucket.
  EXPECT_EQ(t["Resources"]["BackupBucket"]["Properties"]["BucketName"]["Fn::Sub"],
            "byoc-prod-${AWS::AccountId}-enva1b2");
  EXPECT_EQ(t["Parameters"]["NodeRoleArn"]["Default"],
            "arn:aws:iam::444455556666:role/byoc/ByocManagementRole-EksNode");
  EXPECT_EQ(r.err, "");
}

TEST_F(AwsTemplatesCliTest, InfraExistingVpcAndPrivateApi) {
  auto r = run_cli({"aws", "infra-template", "--name", "prod", "--region", "us-east-1", "--cidr", "10.9.0.0/24",
                    "--zones", "us-east-1a,us-east-1b", "--private-api", "--existing-vpc", "vpc-0abc12345678def90",
                    "--private-subnets", "subnet-0a000000000000001,subnet-0a000000000000002",
                    "--environment-id", "enva1b2", "--account", "444455556666"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto t = nlohmann::json::parse(r.out);
  EXPECT_FALSE(t["Resources"].contains("Vpc"));
  // The customer tags their VPC and subnets byoc=true: the CLI says so.
  EXPECT_NE(r.err.find("tag it and its subnets byoc=true"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--resources vpc-0abc12345678def90 subnet-0a000000000000001 subnet-0a000000000000002"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(t["Resources"]["Cluster"]["Properties"]["ResourcesVpcConfig"]["EndpointPublicAccess"], false);
}

TEST_F(AwsTemplatesCliTest, InfraBadInputIsOneLine) {
  auto too_small = infra_args();
  too_small[7] = "10.0.0.0/24";
  auto r = run_cli(too_small);
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("the smallest that fits is 10.0.0.0/22"), std::string::npos) << r.err;
  auto bad_nat = infra_args();
  bad_nat.insert(bad_nat.end(), {"--nat", "many"});
  expect_one_error_line(run_cli(bad_nat));
  expect_one_error_line(run_cli({"aws", "infra-template", "--name", "prod"}));
  auto gone_option = infra_args();  // the node groups are the driver's: no such option
  gone_option.insert(gone_option.end(), {"--max-nodes", "2"});
  expect_one_error_line(run_cli(gone_option));
  auto no_id = infra_args();
  no_id.erase(no_id.end() - 4, no_id.end());  // --environment-id and --account
  expect_one_error_line(run_cli(no_id));
}

}  // namespace
}  // namespace byoc::cli
