// Every request the AWS client sends — each protocol, a session token, a
// path to encode, a body with characters to escape, a retry — is signed as
// AWS's own JavaScript SDK signs it: the requests the stand-in endpoint
// recorded are re-signed by @smithy/signature-v4 (tests/aws/signer, run on
// Node), which must arrive at the very same Authorization header.
#include <gtest/gtest.h>

#include <fstream>

#include "base/files.h"
#include "base/process.h"
#include "cloud/aws/client.h"
#include "cloud/aws/eks_token.h"
#include "cloud/aws/endpoints.h"
#include "fake_aws.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {
using namespace std::chrono_literals;
using byoc::testing::CannedResponse;
using byoc::testing::FakeAws;
using byoc::testing::RecordedRequest;

CannedResponse answer(const RecordedRequest& r) {
  if (r.method == "GET") return {200, {{"Content-Type", "application/json"}}, R"({"cluster":{"name":"c"}})"};
  if (!r.header("x-amz-target").empty()) return {200, {{"Content-Type", "application/x-amz-json-1.1"}}, "{}"};
  static int creates = 0;
  if (r.action() == "CreateStack" && ++creates == 1) return byoc::testing::query_error(503, "Throttling", "slow down");
  if (r.action() == "DescribeInstanceTypeOfferings")
    return {200, {{"Content-Type", "text/xml"}},
            "<DescribeInstanceTypeOfferingsResponse><requestId>r</requestId></DescribeInstanceTypeOfferingsResponse>"};
  return byoc::testing::query_answer(r.action(), "");
}

TEST(AwsSignatures, EveryRequestVerifiesWithTheAwsSdksOwnSigner) {
  FakeAws fake(answer);
  auto transport = make_curl_transport(fake.ca_pem());
  ManualClock clock{1'800'000'000};
  const Credentials credentials{"ASIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FQoGZXIvYXdzE//token+=",
                                std::nullopt, "test"};
  auto options = [&](Service service) {
    ClientOptions o;
    o.service = service;
    o.region = "ap-southeast-2";
    o.env = [&](std::string_view name) -> std::optional<std::string> {
      if (name == "AWS_ENDPOINT_URL") return fake.url();
      return std::nullopt;
    };
    o.credentials = static_credentials(credentials);
    o.transport = transport.get();
    o.clock = &clock;
    o.sleep = [&](std::chrono::milliseconds d) { clock.advance(d); };
    return o;
  };
  Client(options(Service::kSts)).call("GetCallerIdentity");
  Client(options(Service::kCloudFormation))
      .call("CreateStack", {{"StackName", "byoc-env-1"},
                            {"TemplateBody", R"({"Description": "a ü & b = c; 100% +ok", "Resources": {}})"},
                            {"Capabilities", {"CAPABILITY_NAMED_IAM"}},
                            {"Tags", {{{"Key", "byoc"}, {"Value", "true"}}}},
                            {"ClientRequestToken", "op-123"}});
  Client(options(Service::kEks)).call("DescribeCluster", {{"name", "byoc env:1"}});
  Client(options(Service::kServiceQuotas)).call("GetServiceQuota", {{"ServiceCode", "ec2"}, {"QuotaCode", "L-1216C47A"}});
  Client(options(Service::kEc2))
      .call("DescribeInstanceTypeOfferings",
            {{"LocationType", "availability-zone"}, {"Filters", {{{"Name", "instance-type"}, {"Values", {"m6i.*"}}}}}});

  auto sent = fake.requests();
  ASSERT_EQ(sent.size(), 6u) << "five calls, one retried";
  nlohmann::json requests = nlohmann::json::array();
  for (const auto& r : sent) {
    std::string authz = r.header("authorization");
    // Credential=KEY/DATE/REGION/SERVICE/aws4_request: the scope names the signing service.
    auto scope = authz.substr(authz.find('/') + 1);
    std::vector<std::string> parts;
    for (size_t start = 0, slash; (slash = scope.find('/', start)) != std::string::npos && parts.size() < 3;
         start = slash + 1)
      parts.push_back(scope.substr(start, slash - start));
    ASSERT_EQ(parts.size(), 3u) << authz;
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [name, value] : r.headers) headers[name] = value;
    requests.push_back({{"method", r.method},
                        {"target", r.target},
                        {"headers", headers},
                        {"body", r.body},
                        {"region", parts[1]},
                        {"service", parts[2]},
                        {"credentials",
                         {{"accessKeyId", credentials.access_key_id},
                          {"secretAccessKey", credentials.secret_access_key},
                          {"sessionToken", credentials.session_token}}}});
  }
  std::optional<int> status;
  std::string out = byoc::testing::verify_with_aws_signer(requests, status);
  std::cout << out;
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("verified 6 of 6"), std::string::npos) << out;
}

// EKS bearer tokens: presigned GetCallerIdentity requests with the cluster
// in a signed header, re-signed by the SDK's presigner.
TEST(AwsSignatures, EksTokensVerifyWithTheAwsSdksOwnPresigner) {
  ManualClock clock{1'800'000'000};
  const ServiceEndpoint sts = resolve_endpoint("STS", "sts", "eu-west-1", [](std::string_view) { return std::nullopt; });
  nlohmann::json requests = nlohmann::json::array();
  for (const Credentials& c : {Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, "t"},
                               Credentials{"ASIAEXAMPLE", "secret/+key", "FQoGZXIvYXdz//token+=", {}, "t"}}) {
    for (const std::string cluster : {"byoc-prod", "byoc env:1/ü"}) {
      EksToken token = make_eks_token(c, sts, cluster, clock.system_time());
      std::optional<std::string> url = byoc::testing::eks_token_url(token.token);
      ASSERT_TRUE(url.has_value()) << token.token;
      const std::string host = "sts.eu-west-1.amazonaws.com";
      ASSERT_EQ(url->rfind("https://" + host + "/?", 0), 0u) << *url;
      requests.push_back({{"method", "GET"},
                          {"target", url->substr(8 + host.size())},
                          {"headers", {{"host", host}, {"x-k8s-aws-id", cluster}}},
                          {"body", ""},
                          {"region", "eu-west-1"},
                          {"service", "sts"},
                          {"presigned", true},
                          {"credentials",
                           {{"accessKeyId", c.access_key_id},
                            {"secretAccessKey", c.secret_access_key},
                            {"sessionToken", c.session_token}}}});
    }
  }
  std::optional<int> status;
  std::string out = byoc::testing::verify_with_aws_signer(requests, status);
  std::cout << out;
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("verified 4 of 4"), std::string::npos) << out;
}

}  // namespace
}  // namespace byoc::aws
