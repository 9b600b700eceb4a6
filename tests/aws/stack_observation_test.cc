// Each status of a data-plane stack's life, as DescribeStacks and
// DescribeStackEvents give it, read as the environment controller reads
// every cloud: what exists, whether it is ready or failed and why (the
// resource that failed first, not those cancelled after it), the handle,
// the outputs and the token of the last action CloudFormation took.
#include "cloud/aws/driver/stack_observation.h"

#include <gtest/gtest.h>

namespace byoc::aws {
namespace {
using nlohmann::json;

constexpr const char* kStackId = "arn:aws:cloudformation:eu-west-1:123456789012:stack/byoc-prod/1f2e";

json stack(const std::string& status, const std::string& spec = "spec-1") {
  return {{"StackId", kStackId},
          {"StackName", "byoc-prod"},
          {"StackStatus", status},
          {"Tags", json::array({{{"Key", "byoc"}, {"Value", "true"}}, {{"Key", kSpecTag}, {"Value", spec}}})},
          {"Outputs", json::array({{{"OutputKey", "ClusterName"}, {"OutputValue", "byoc-prod"}},
                                   {{"OutputKey", "VpcId"}, {"OutputValue", "vpc-1"}}})}};
}

json event(const std::string& logical, const std::string& type, const std::string& status,
           const std::string& reason = "", const std::string& token = "act-2") {
  return {{"StackId", kStackId},      {"LogicalResourceId", logical}, {"ResourceType", type},
          {"ResourceStatus", status}, {"ResourceStatusReason", reason}, {"ClientRequestToken", token}};
}

// A create that failed on the NAT gateway's quota and rolled back, newest first.
json rolled_back_create() {
  return json::array({
      event("byoc-prod", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE"),
      event("Vpc", "AWS::EC2::VPC", "DELETE_COMPLETE"),
      event("byoc-prod", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [NatGateway1, Subnet2]."),
      event("Subnet2", "AWS::EC2::Subnet", "CREATE_FAILED", "Resource creation cancelled"),
      event("NatGateway1", "AWS::EC2::NatGateway", "CREATE_FAILED",
            "The maximum number of NAT gateways has been reached. (Service: Ec2, Status Code: 400, "
            "Request ID: 9c1e) (NatGatewayLimitExceeded)"),
      event("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE"),
      event("byoc-prod", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
      // An earlier operation's failure, which is not this one's.
      event("Old", "AWS::EC2::EIP", "CREATE_FAILED", "an older failure", "act-1"),
  });
}

TEST(StackObservation, NoStackOrADeletedOneIsNothing) {
  for (const json& s : {json(), stack("DELETE_COMPLETE")}) {
    cloud::Observation o = observe_stack(s, json::array(), "spec-1");
    EXPECT_FALSE(o.exists);
    EXPECT_FALSE(o.ready);
    EXPECT_EQ(o.failure, cloud::Failure::kNone);
  }
}

TEST(StackObservation, InProgressExistsAndIsLookedAtAgainSoon) {
  json events = json::array({event("byoc-prod", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated")});
  cloud::Observation o = observe_stack(stack("CREATE_IN_PROGRESS"), events, "spec-1");
  EXPECT_TRUE(o.exists);
  EXPECT_FALSE(o.ready);
  EXPECT_EQ(o.reason, "create_in_progress");
  EXPECT_EQ(o.handle, kStackId);
  EXPECT_EQ(o.last_token, "act-2");
  EXPECT_GT(o.look_again.count(), 0);
  EXPECT_EQ(o.message, "") << "no resource has moved yet";
}

TEST(StackObservation, InProgressSaysHowFarTheLastOperationIs) {
  // Newest first, as AWS lists them; an older operation's events don't count.
  json events = json::array({event("Subnet1", "AWS::EC2::Subnet", "CREATE_IN_PROGRESS"),
                             event("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE"),
                             event("Igw", "AWS::EC2::InternetGateway", "CREATE_COMPLETE"),
                             event("Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS"),
                             event("byoc-prod", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
                             event("Old", "AWS::EC2::EIP", "DELETE_COMPLETE", "", "act-1")});
  cloud::Observation o = observe_stack(stack("CREATE_IN_PROGRESS"), events, "spec-1");
  EXPECT_EQ(o.message, "2 of 3 resources done; latest: Subnet1 (AWS::EC2::Subnet) CREATE_IN_PROGRESS");
  // A newer spec waits for the operation's end: CloudFormation would refuse an update now.
  cloud::Observation newer = observe_stack(stack("CREATE_IN_PROGRESS", "spec-1"), events, "spec-2");
  EXPECT_TRUE(newer.up_to_date);
  EXPECT_FALSE(newer.ready);
}

TEST(StackObservation, CompleteIsReadyWithItsOutputsOnlyWhenUpToDate) {
  json events = json::array({event("byoc-prod", "AWS::CloudFormation::Stack", "CREATE_COMPLETE")});
  cloud::Observation o = observe_stack(stack("CREATE_COMPLETE"), events, "spec-1");
  EXPECT_TRUE(o.ready);
  EXPECT_TRUE(o.up_to_date);
  EXPECT_EQ(o.outputs.at("ClusterName"), "byoc-prod");
  EXPECT_EQ(o.outputs.at("VpcId"), "vpc-1");
  cloud::Observation stale = observe_stack(stack("UPDATE_COMPLETE", "spec-1"), events, "spec-2");
  EXPECT_TRUE(stale.exists);
  EXPECT_FALSE(stale.up_to_date);
  EXPECT_FALSE(stale.ready);
}

TEST(StackObservation, ARolledBackCreateIsFailedWithTheFirstResourcesReason) {
  cloud::Observation o = observe_stack(stack("ROLLBACK_COMPLETE"), rolled_back_create(), "spec-1");
  EXPECT_TRUE(o.exists);
  EXPECT_FALSE(o.ready);
  EXPECT_EQ(o.failure, cloud::Failure::kQuotaExceeded) << "NatGatewayLimitExceeded";
  EXPECT_EQ(o.message.rfind("NatGateway1 (AWS::EC2::NatGateway): The maximum number of NAT gateways", 0), 0u)
      << o.message;
  EXPECT_EQ(o.reason, "rollback_complete");
}

TEST(StackObservation, AnUpdateRolledBackToWhatIsWantedAgainIsReady) {
  // The update failed; the environment was changed back: the old stack is it.
  cloud::Observation o = observe_stack(stack("UPDATE_ROLLBACK_COMPLETE", "spec-1"), json::array(), "spec-1");
  EXPECT_TRUE(o.ready);
  EXPECT_EQ(o.failure, cloud::Failure::kNone);
}

TEST(StackObservation, FailuresAreNamedByWhatFailed) {
  json denied = json::array({
      event("byoc-prod", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE"),
      event("Cluster", "AWS::EKS::Cluster", "CREATE_FAILED",
            "User: arn:aws:sts::1:assumed-role/ByocManagementRole/op is not authorized to perform: eks:CreateCluster"),
      event("byoc-prod", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
  });
  EXPECT_EQ(observe_stack(stack("ROLLBACK_COMPLETE"), denied, "spec-1").failure, cloud::Failure::kAccessDenied);
  json plain = json::array({
      event("byoc-prod", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE"),
      event("Bucket", "AWS::S3::Bucket", "UPDATE_FAILED", "Invalid request provided"),
      event("byoc-prod", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS"),
  });
  // Rolled back to the old spec, while the environment wants the new one.
  cloud::Observation update = observe_stack(stack("UPDATE_ROLLBACK_COMPLETE", "spec-1"), plain, "spec-2");
  EXPECT_EQ(update.failure, cloud::Failure::kUpdateFailed);
  EXPECT_EQ(update.message, "Bucket (AWS::S3::Bucket): Invalid request provided");
  json delete_failed = json::array({
      event("byoc-prod", "AWS::CloudFormation::Stack", "DELETE_FAILED", "Resources failed to delete"),
      event("Vpc", "AWS::EC2::VPC", "DELETE_FAILED", "The vpc 'vpc-1' has dependencies and cannot be deleted."),
      event("byoc-prod", "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS"),
  });
  cloud::Observation d = observe_stack(stack("DELETE_FAILED"), delete_failed, "spec-1");
  EXPECT_EQ(d.failure, cloud::Failure::kDeleteFailed);
  EXPECT_TRUE(d.exists);
  EXPECT_NE(d.message.find("has dependencies"), std::string::npos);
}

TEST(StackObservation, WithoutAFailedResourceTheStacksOwnReasonIsGiven) {
  json s = stack("ROLLBACK_FAILED");
  s["StackStatusReason"] = "The following resource(s) failed to delete: [Vpc].";
  cloud::Observation o = observe_stack(s, json::array(), "spec-1");
  EXPECT_EQ(o.failure, cloud::Failure::kRolledBack);
  EXPECT_EQ(o.message, "The following resource(s) failed to delete: [Vpc].");
}

}  // namespace
}  // namespace byoc::aws
