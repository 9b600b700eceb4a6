// The EKS bearer token's shape, as aws-iam-authenticator makes and the API
// server reads it: "k8s-aws-v1." + unpadded base64url of a presigned STS
// GetCallerIdentity URL (60 s) whose signed headers are host and
// x-k8s-aws-id; good for 15 minutes. (That the signature itself is right is
// checked by AWS's own presigner in signature_check_test.cc.)
#include "cloud/aws/eks_token.h"

#include <gtest/gtest.h>

#include "base/crypto.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {
using namespace std::chrono_literals;

ServiceEndpoint sts_in(const std::string& region, std::optional<std::string> configured = std::nullopt) {
  return resolve_endpoint("STS", "sts", region, [configured](std::string_view name) -> std::optional<std::string> {
    return name == "AWS_ENDPOINT_URL_STS" ? configured : std::nullopt;
  });
}

std::string decoded_url(const std::string& token) {
  std::string b64 = token.substr(std::string("k8s-aws-v1.").size());
  for (char& ch : b64) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  while (b64.size() % 4) b64 += '=';
  return crypto::base64_decode(b64).value_or("");
}

TEST(EksToken, IsAPresignedCallerIdentityNamingTheCluster) {
  ManualClock clock{1'800'000'000};
  const ServiceEndpoint sts = sts_in("eu-west-1");
  EksToken t = make_eks_token({"AKIDEXAMPLE", "secret", "", {}, "t"}, sts, "byoc-prod", clock.system_time());
  EXPECT_EQ(t.token.rfind("k8s-aws-v1.", 0), 0u);
  EXPECT_EQ(t.token.find_first_of("=+/"), std::string::npos) << "unpadded base64url";
  EXPECT_EQ(t.expires, clock.system_time() + 15min);
  std::string url = decoded_url(t.token);
  EXPECT_EQ(url.rfind("https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
                      "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                      "&X-Amz-Credential=AKIDEXAMPLE%2F20270115%2Feu-west-1%2Fsts%2Faws4_request"
                      "&X-Amz-Date=20270115T080000Z&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Expires=60"
                      "&X-Amz-Signature=",
                      0),
            0u)
      << url;
  EXPECT_EQ(url.find("X-Amz-Security-Token"), std::string::npos);
}

TEST(EksToken, CarriesTheSessionTokenAndFollowsTheConfiguredStsEndpoint) {
  ManualClock clock{1'800'000'000};
  const ServiceEndpoint sts = sts_in("us-east-1", "https://127.0.0.1:8443/sts");
  EksToken t = make_eks_token({"ASIA", "secret", "tok/en+=", {}, "t"}, sts, "c", clock.system_time());
  std::string url = decoded_url(t.token);
  EXPECT_EQ(url.rfind("https://127.0.0.1:8443/sts/?Action=GetCallerIdentity", 0), 0u) << url;
  EXPECT_NE(url.find("%2Fus-east-1%2Fsts%2F"), std::string::npos) << url;
  EXPECT_NE(url.find("&X-Amz-Security-Token=tok%2Fen%2B%3D"), std::string::npos) << url;
}

TEST(EksToken, NeedsAClusterAndCredentials) {
  ManualClock clock{1'800'000'000};
  const ServiceEndpoint sts = sts_in("eu-west-1");
  EXPECT_EQ(byoc::testing::error_code([&] { make_eks_token({"A", "S", "", {}, "t"}, sts, "", clock.system_time()); }),
            "invalid_cluster");
  EXPECT_NE(byoc::testing::error_code([&] { make_eks_token({"", "", "", {}, "t"}, sts, "c", clock.system_time()); }),
            "(no error)");
}

}  // namespace
}  // namespace byoc::aws
