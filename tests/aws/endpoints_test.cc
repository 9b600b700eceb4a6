// cloud/aws/endpoints.h: AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL
// over the partition's public endpoint; IAM global; China's suffix; bad URLs
// and regions rejected naming the variable.
#include "cloud/aws/endpoints.h"

#include <gtest/gtest.h>

#include <map>

#include "base/error.h"

namespace byoc::aws {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Error error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return Error::Internal("(no error)");
}

TEST(ResolveEndpoint, PublicRegionalEndpoints) {
  auto none = env_of({});
  auto sts = resolve_endpoint("STS", "sts", "eu-west-1", none);
  EXPECT_EQ(sts.url, "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(sts.signing_region, "eu-west-1");
  EXPECT_FALSE(sts.configured);
  EXPECT_EQ(resolve_endpoint("EKS", "eks", "us-gov-west-1", none).url, "https://eks.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(resolve_endpoint("CloudFormation", "cloudformation", "cn-north-1", none).url,
            "https://cloudformation.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(resolve_endpoint("STS", "sts", "cn-northwest-1", none).url, "https://sts.cn-northwest-1.amazonaws.com.cn");
}

TEST(ResolveEndpoint, IamIsGlobalPerPartition) {
  auto none = env_of({});
  auto aws = resolve_endpoint("IAM", "iam", "eu-central-1", none);
  EXPECT_EQ(aws.url, "https://iam.amazonaws.com");
  EXPECT_EQ(aws.signing_region, "us-east-1");
  EXPECT_EQ(resolve_endpoint("IAM", "iam", "", none).url, "https://iam.amazonaws.com");
  auto cn = resolve_endpoint("IAM", "iam", "cn-northwest-1", none);
  EXPECT_EQ(cn.url, "https://iam.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(cn.signing_region, "cn-north-1");
  auto gov = resolve_endpoint("IAM", "iam", "us-gov-east-1", none);
  EXPECT_EQ(gov.url, "https://iam.us-gov.amazonaws.com");
  EXPECT_EQ(gov.signing_region, "us-gov-west-1");
}

TEST(ResolveEndpoint, ServiceVariableOverGlobalVariable) {
  auto env = env_of({{"AWS_ENDPOINT_URL", "http://localhost:4566/"},
                     {"AWS_ENDPOINT_URL_SERVICE_QUOTAS", "https://quotas.internal:8443/base/"}});
  auto quotas = resolve_endpoint("Service Quotas", "servicequotas", "us-east-1", env);
  EXPECT_EQ(quotas.url, "https://quotas.internal:8443/base");
  EXPECT_EQ(quotas.signing_region, "us-east-1");
  EXPECT_TRUE(quotas.configured);
  auto sts = resolve_endpoint("STS", "sts", "us-east-1", env);
  EXPECT_EQ(sts.url, "http://localhost:4566");
  EXPECT_TRUE(sts.configured);
  auto iam = resolve_endpoint("IAM", "iam", "eu-west-1", env);
  EXPECT_EQ(iam.url, "http://localhost:4566");
  EXPECT_EQ(iam.signing_region, "us-east-1");
  // An empty variable is unset.
  EXPECT_FALSE(resolve_endpoint("EKS", "eks", "us-east-1", env_of({{"AWS_ENDPOINT_URL", ""}})).configured);
}

TEST(ResolveEndpoint, IgnoreConfiguredEndpointUrls) {
  auto env = env_of({{"AWS_ENDPOINT_URL", "http://localhost:4566"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
  EXPECT_EQ(resolve_endpoint("STS", "sts", "us-east-1", env).url, "https://sts.us-east-1.amazonaws.com");
}

TEST(ResolveEndpoint, AcceptsHostForms) {
  for (const char* ok : {"http://127.0.0.1:4566", "https://[::1]:8443", "https://[fd00:ec2::254]", "https://a.b-c.d",
                         "https://vpce-1.sts.us-east-1.vpce.amazonaws.com/"}) {
    EXPECT_TRUE(resolve_endpoint("STS", "sts", "us-east-1", env_of({{"AWS_ENDPOINT_URL_STS", ok}})).configured) << ok;
  }
}

// curl leaves a scheme's default port out of the Host header; a URL that
// kept it would be signed for `host:443` and every signature would fail.
TEST(ResolveEndpoint, DefaultPortsAreDropped) {
  auto url_of = [](const char* configured) {
    return resolve_endpoint("STS", "sts", "us-east-1", env_of({{"AWS_ENDPOINT_URL_STS", configured}})).url;
  };
  EXPECT_EQ(url_of("https://sts.example.com:443"), "https://sts.example.com");
  EXPECT_EQ(url_of("http://localhost:80/base/"), "http://localhost/base");
  EXPECT_EQ(url_of("https://[::1]:443"), "https://[::1]");
  EXPECT_EQ(url_of("https://host:0443"), "https://host");
  // Another scheme's default, or any other port, stays.
  EXPECT_EQ(url_of("http://localhost:443"), "http://localhost:443");
  EXPECT_EQ(url_of("https://host:80"), "https://host:80");
  EXPECT_EQ(url_of("https://[::1]:08443"), "https://[::1]:8443");
}

TEST(ResolveEndpoint, GivesTheUrlsPartsForRequestsAndTheSignedHost) {
  ServiceEndpoint configured =
      resolve_endpoint("STS", "sts", "us-east-1", env_of({{"AWS_ENDPOINT_URL_STS", "http://[::1]:8080/base/"}}));
  EXPECT_EQ(configured.scheme, "http");
  EXPECT_EQ(configured.authority, "[::1]:8080");
  EXPECT_EQ(configured.path, "/base");
  ServiceEndpoint public_one = resolve_endpoint("EKS", "eks", "eu-west-1", env_of({}));
  EXPECT_EQ(public_one.scheme, "https");
  EXPECT_EQ(public_one.authority, "eks.eu-west-1.amazonaws.com");
  EXPECT_EQ(public_one.path, "");
}

TEST(ResolveEndpoint, RejectsBadUrlsNamingTheVariable) {
  for (const char* bad : {"localhost:4566", "ftp://x", "https://", "https://host:0", "https://host:99999",
                          "https://host:", "https://us er@host", "https://user@host", "https://host/p?q=1",
                          "https://host#frag", "https://[::1", "https://ho_st", "https://host:80a"}) {
    Error e = error_of([&] { resolve_endpoint("EKS", "eks", "us-east-1", env_of({{"AWS_ENDPOINT_URL_EKS", bad}})); });
    EXPECT_EQ(e.code(), "aws_endpoint_invalid") << bad;
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid) << bad;
    EXPECT_EQ(e.field(), "AWS_ENDPOINT_URL_EKS") << bad;
  }
  Error e = error_of([&] { resolve_endpoint("EKS", "eks", "us-east-1", env_of({{"AWS_ENDPOINT_URL", "nope"}})); });
  EXPECT_EQ(e.field(), "AWS_ENDPOINT_URL");
}

TEST(ResolveEndpoint, RejectsBadRegions) {
  auto none = env_of({});
  for (const char* bad : {"US-EAST-1", "us_east_1", "-us", "us-", "us--east", "us.east.1", "a/b", "us-east-1 "}) {
    Error e = error_of([&] { resolve_endpoint("STS", "sts", bad, none); });
    EXPECT_EQ(e.code(), "aws_region_invalid") << bad;
    EXPECT_EQ(e.field(), "AWS_REGION");
  }
  Error e = error_of([&] { resolve_endpoint("STS", "sts", "", none); });
  EXPECT_EQ(e.code(), "aws_region_missing");
  EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
}

}  // namespace
}  // namespace byoc::aws
