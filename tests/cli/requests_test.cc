#include "cli/requests.h"

#include <gtest/gtest.h>

namespace byoc::cli {
namespace {
using nlohmann::json;

TEST(EnvironmentCreateBody, OnlyGivenFields) {
  EXPECT_EQ(environment_create_body({"e1", "local", "10.1.0.0/16", "", {}}),
            (json{{"name", "e1"}, {"cloud", "local"}, {"cidr", "10.1.0.0/16"}}));
  EXPECT_EQ(environment_create_body({"e1", "aws", "10.1.0.0/16", "eu-west-1", {"a", "b"}}),
            (json{{"name", "e1"},
                  {"cloud", "aws"},
                  {"cidr", "10.1.0.0/16"},
                  {"region", "eu-west-1"},
                  {"zones", {"a", "b"}}}));
}

TEST(ServiceCreateBody, OnlyGivenFields) {
  ServiceCreateArgs args;
  args.name = "s1";
  EXPECT_EQ(service_create_body(args), (json{{"name", "s1"}}));
  args.replicas = 2;
  args.memory_mib = 1024;
  args.allowed_ips = std::vector<std::string>{};
  EXPECT_EQ(service_create_body(args),
            (json{{"name", "s1"}, {"replicas", 2}, {"memory_mib", 1024}, {"allowed_ips", json::array()}}));
}

TEST(Ipv4CidrSyntax, AcceptsWellFormed) {
  EXPECT_EQ(ipv4_cidr_syntax_error("10.0.0.0/16"), "");
  EXPECT_EQ(ipv4_cidr_syntax_error("192.168.1.0/24"), "");
  EXPECT_EQ(ipv4_cidr_syntax_error("8.8.8.8/32"), "");  // syntax only: the server judges RFC 1918
}

TEST(Ipv4CidrSyntax, RejectsMalformed) {
  for (const char* bad : {"10.0.0.0", "10.0.0/16", "10.0.0.256/16", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/1x",
                          "x/16", "::1/128", "010.0.0.0/16 ", "10.0.0.0/-1"})
    EXPECT_NE(ipv4_cidr_syntax_error(bad), "") << bad;
}

TEST(IpCidrSyntax, BothFamilies) {
  EXPECT_EQ(ip_cidr_syntax_error("127.0.0.1/32"), "");
  EXPECT_EQ(ip_cidr_syntax_error("fd00::/8"), "");
  EXPECT_NE(ip_cidr_syntax_error("fd00::/129"), "");
  EXPECT_NE(ip_cidr_syntax_error("127.0.0.1"), "");
  EXPECT_NE(ip_cidr_syntax_error("host/8"), "");
}

}  // namespace
}  // namespace byoc::cli
