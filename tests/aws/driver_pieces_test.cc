// The aws driver's pure pieces: what onboarding shows the customer, how a
// pre-flight report reads as an access check, and the stack an environment
// should have (its name, template, tags and the digest that tells an
// up-to-date stack).
#include <gtest/gtest.h>

#include "base/error.h"
#include "cloud/aws/driver/onboarding.h"
#include "cloud/aws/driver/stack_observation.h"
#include "cloud/aws/driver/stack_spec.h"

namespace byoc::aws {
namespace {
using nlohmann::json;

model::Environment environment() {
  model::Environment e;
  e.id = "env-0123456789abcdef";
  e.name = "prod";
  e.cloud = "aws";
  e.region = "eu-west-1";
  e.cidr = "10.0.0.0/16";
  e.zones = {"a", "b", "c"};
  e.account = {{"account_id", "123456789012"}, {"role_name", "ByocManagementRole"}, {"external_id", "byoc-x1"},
               {"role_arn", "arn:aws:iam::123456789012:role/ByocManagementRole"}};
  return e;
}

AwsDriverOptions configured() {
  AwsDriverOptions o;
  o.api_allowed_cidrs = {"203.0.113.0/24"};
  return o;
}

TEST(AwsOnboarding, FillsTheExternalIdOnceAndDerivesTheRest) {
  AwsDriverOptions o;
  o.management_account = "111122223333";
  o.onboarding_template_url = "https://byoc-templates.s3.amazonaws.com/onboarding.json";
  std::map<std::string, std::string> account;
  fill_onboarding(account, "eu-west-1", "prod", o);
  const std::string external_id = account["external_id"];
  EXPECT_EQ(external_id.rfind("byoc-", 0), 0u);
  EXPECT_EQ(account["role_name"], "ByocManagementRole");
  EXPECT_FALSE(account.count("role_arn")) << "no account id yet";
  EXPECT_FALSE(account.count("account_id"));
  EXPECT_NE(account["quick_create_url"].find("param_ExternalId=" + external_id), std::string::npos);
  EXPECT_NE(account["quick_create_url"].find("stackName=byoc-onboarding-prod"), std::string::npos);

  account["account_id"] = "123456789012";
  account["role_name"] = "Other";
  fill_onboarding(account, "eu-west-1", "prod", o);
  EXPECT_EQ(account["external_id"], external_id) << "never changed once given";
  EXPECT_EQ(account["role_arn"], "arn:aws:iam::123456789012:role/Other");
  EXPECT_NE(account["quick_create_url"].find("&param_RoleName=Other"), std::string::npos);
  EXPECT_EQ(account["onboarding_template"],
            "byoc aws onboarding-template --management-account 111122223333 --external-id " + external_id +
                " --role-name Other");

  std::map<std::string, std::string> plain;
  fill_onboarding(plain, "eu-west-1", "prod", AwsDriverOptions{});
  EXPECT_FALSE(plain.count("onboarding_template")) << "no management account configured";
  EXPECT_FALSE(plain.count("quick_create_url"));
  std::map<std::string, std::string> again;
  fill_onboarding(again, "eu-west-1", "prod", AwsDriverOptions{});
  EXPECT_NE(again["external_id"], plain["external_id"]);
}

TEST(AwsOnboarding, AReportReadsAsAnAccessCheck) {
  PreflightReport ok;
  ok.actions_simulated = 80;
  ok.quotas_checked = 5;
  cloud::AccessCheck granted = access_check_of(ok);
  EXPECT_TRUE(granted.granted);
  EXPECT_EQ(granted.details["actions_simulated"], 80);

  PreflightReport refused;
  refused.findings = {{"assume_role_denied", "arn:aws:iam::1:role/R", "byoc could not assume it"}};
  EXPECT_EQ(access_check_of(refused).reason, "assume_role_denied");
  EXPECT_EQ(access_check_of(refused).message, "byoc could not assume it");

  PreflightReport missing;
  missing.findings = {{"quota_too_low", "L-F678F1CE", "VPCs: 5 of 5 used"},
                      {"permission_missing", "ec2:CreateVpc", "m1"},
                      {"permission_missing", "eks:CreateCluster", "m2"}};
  cloud::AccessCheck lacking = access_check_of(missing);
  EXPECT_FALSE(lacking.granted);
  EXPECT_EQ(lacking.reason, "permissions_missing");
  EXPECT_NE(lacking.message.find("2 permissions: ec2:CreateVpc, eks:CreateCluster"), std::string::npos)
      << lacking.message;
  EXPECT_EQ(lacking.details["findings"].size(), 3u) << "every finding is in the details";

  PreflightReport other;
  other.findings = {{"zone_unavailable", "eu-west-1c", "zone eu-west-1c is not available"}};
  EXPECT_EQ(access_check_of(other).reason, "preflight_failed");
  EXPECT_EQ(access_check_of(other).message, "zone eu-west-1c is not available");
}

TEST(AwsStackSpec, NamesTheStackTagsItAndDigestsItsTemplate) {
  model::Environment e = environment();
  StackSpec spec = stack_spec(e, configured());
  EXPECT_EQ(spec.stack_name, "byoc-prod");
  json tags = spec.tags;
  EXPECT_EQ(tags[0], (json{{"Key", "byoc"}, {"Value", "true"}}));
  EXPECT_EQ(tags[1], (json{{"Key", "byoc-environment"}, {"Value", e.id}}));
  EXPECT_EQ(tags[2], (json{{"Key", kSpecTag}, {"Value", spec.digest}}));
  json body = json::parse(spec.template_body);
  EXPECT_TRUE(body["Resources"].contains("Vpc") || body["Resources"].size() > 10);
  EXPECT_NE(spec.template_body.find("0123456789abcdef"), std::string::npos) << "the bucket carries the id";
  // The node groups are not the stack's: its types are not in it.
  EXPECT_EQ(spec.template_body.find("m7gd.xlarge"), std::string::npos);

  EXPECT_EQ(stack_spec(e, configured()).digest, spec.digest) << "the same environment, the same spec";
  model::Environment wider = e;
  wider.instance_types = {"m7gd.xlarge", "r7gd.2xlarge"};
  EXPECT_EQ(stack_spec(wider, configured()).digest, spec.digest) << "new types need no stack update";
  model::Environment moved = e;
  moved.account["role_name"] = "Other";
  EXPECT_NE(stack_spec(moved, configured()).digest, spec.digest) << "the data-plane roles' ARNs change";
}

TEST(AwsDriverOptions, ACommaListDropsItsEmptyItems) {
  EXPECT_EQ(comma_list("a,b,,c,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(comma_list("subnet-1"), std::vector<std::string>{"subnet-1"});
  EXPECT_TRUE(comma_list("").empty());
  EXPECT_TRUE(comma_list(",").empty());
}

TEST(AwsStackSpec, RefusesWhatCannotBeAStack) {
  model::Environment e = environment();
  try {
    stack_spec(e, AwsDriverOptions{});
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), "aws_not_configured");
    EXPECT_EQ(err.field(), "BYOC_AWS_API_ALLOWED_CIDRS");
  }
  e.account.erase("account_id");
  EXPECT_THROW(stack_spec(e, configured()), Error);
}

TEST(AwsStackSpec, ThePreflightAsksForTheStacksZonesAndTypes) {
  model::Environment e = environment();
  PreflightRequest r = preflight_request(e, "byoc-check-env-1");
  EXPECT_EQ(r.role_arn, "arn:aws:iam::123456789012:role/ByocManagementRole");
  EXPECT_EQ(r.external_id, "byoc-x1");
  EXPECT_EQ(r.zones, (std::vector<std::string>{"eu-west-1a", "eu-west-1b", "eu-west-1c"}));
  EXPECT_EQ(r.instance_types, (std::vector<std::string>{"m7gd.xlarge"}));
  EXPECT_EQ(r.nat_gateways, 3);
  EXPECT_TRUE(r.new_vpc);
}

}  // namespace
}  // namespace byoc::aws
