// The embedded models (src/cloud/aws/models, trimmed by
// scripts/trim-aws-models.py): each loads, speaks its service's protocol and
// has every operation byoc calls, and what they serialize and parse is what
// the service expects (the trimmer kept each member's wire traits).
#include "cloud/aws/models.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud/aws/protocol.h"

namespace byoc::aws {
namespace {
using nlohmann::json;

TEST(EmbeddedModels, EachLoadsWithItsProtocolAndOperations) {
  struct Expect {
    Service service;
    const char* protocol;
    const char* service_id;
    std::vector<const char*> operations;
  };
  const std::vector<Expect> expected = {
      {Service::kSts, "query", "STS", {"AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"}},
      {Service::kIam, "query", "IAM", {"GetRole", "SimulatePrincipalPolicy"}},
      {Service::kCloudFormation, "query", "CloudFormation",
       {"CreateStack", "UpdateStack", "DeleteStack", "DescribeStacks", "DescribeStackEvents", "GetTemplate"}},
      {Service::kEc2, "ec2", "EC2", {"DescribeAvailabilityZones", "DescribeInstanceTypeOfferings"}},
      {Service::kEks, "rest-json", "EKS", {"DescribeCluster", "CreateNodegroup", "UpdateNodegroupConfig"}},
      {Service::kServiceQuotas, "json", "Service Quotas", {"GetServiceQuota", "GetAWSDefaultServiceQuota"}},
      {Service::kElasticLoadBalancingV2, "query", "Elastic Load Balancing v2", {"DescribeLoadBalancers"}},
  };
  for (const auto& e : expected) {
    const ServiceModel& model = model_of(e.service);
    EXPECT_EQ(model.protocol(), e.protocol) << e.service_id;
    EXPECT_EQ(model.metadata()["serviceId"], e.service_id);
    for (const char* op : e.operations) EXPECT_EQ(model.operation(op)["name"], op) << e.service_id;
  }
}

TEST(EmbeddedModels, StsAssumeRoleKeepsItsShapesAndWireForm) {
  const ServiceModel& sts = model_of(Service::kSts);
  HttpRequest request = serialize_request(
      sts, "AssumeRole",
      {{"RoleArn", "arn:aws:iam::1:role/r"}, {"RoleSessionName", "op-1"}, {"DurationSeconds", 900},
       {"ExternalId", "x"}, {"PolicyArns", {{{"arn", "p"}}}}, {"Tags", {{{"Key", "k"}, {"Value", "v"}}}}});
  EXPECT_EQ(request.body,
            "Action=AssumeRole&Version=2011-06-15&DurationSeconds=900&ExternalId=x&PolicyArns.member.1.arn=p"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=op-1&Tags.member.1.Key=k"
            "&Tags.member.1.Value=v");
  ParsedResponse parsed = parse_response(sts, "AssumeRole", {200, {}, R"(<AssumeRoleResponse>
      <AssumeRoleResult><Credentials><AccessKeyId>AKIA</AccessKeyId><SecretAccessKey>s</SecretAccessKey>
      <SessionToken>t</SessionToken><Expiration>2019-12-16T23:48:18Z</Expiration></Credentials>
      <PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>
      <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>)"});
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.result, json::parse(R"({"Credentials": {"AccessKeyId": "AKIA", "SecretAccessKey": "s",
      "SessionToken": "t", "Expiration": 1576540098}, "PackedPolicySize": 6})"));
}

TEST(EmbeddedModels, Ec2ListsTravelFlattenedWithTheirQueryNames) {
  HttpRequest request = serialize_request(
      model_of(Service::kEc2), "DescribeInstanceTypeOfferings",
      {{"LocationType", "availability-zone"}, {"Filters", {{{"Name", "instance-type"}, {"Values", {"m6i.xlarge"}}}}}});
  EXPECT_EQ(request.body,
            "Action=DescribeInstanceTypeOfferings&Version=2016-11-15&Filter.1.Name=instance-type"
            "&Filter.1.Value.1=m6i.xlarge&LocationType=availability-zone");
}

TEST(EmbeddedModels, EksDescribeClusterPutsTheNameInThePath) {
  HttpRequest request = serialize_request(model_of(Service::kEks), "DescribeCluster", {{"name", "byoc x"}});
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path_and_query, "/clusters/byoc%20x");
}

}  // namespace
}  // namespace byoc::aws
