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
  EnvironmentCreateArgs aws{"e2", "aws", "10.2.0.0/16", "", {}, {"m7gd.large"}, 100, std::nullopt};
  EXPECT_EQ(environment_create_body(aws), (json{{"name", "e2"},
                                                {"cloud", "aws"},
                                                {"cidr", "10.2.0.0/16"},
                                                {"instance_types", {"m7gd.large"}},
                                                {"daemonsets", {{"cpu_millis", 100}}}}));
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
  ServiceCreateArgs profiled;
  profiled.name = "s2";
  profiled.profile = "host";
  EXPECT_EQ(service_create_body(profiled), (json{{"name", "s2"}, {"profile", "host"}}));
}

TEST(EnvironmentUpdateBody, OnlyGivenFields) {
  EXPECT_EQ(environment_update_body({}), json::object());
  EnvironmentUpdateArgs all;
  all.instance_types = std::vector<std::string>{};
  EXPECT_EQ(environment_update_body(all), (json{{"instance_types", json::array()}}));
  EnvironmentUpdateArgs daemonsets;
  daemonsets.daemonset_cpu_millis = 0;
  daemonsets.daemonset_memory_mib = 128;
  EXPECT_EQ(environment_update_body(daemonsets),
            (json{{"daemonsets", {{"cpu_millis", 0}, {"memory_mib", 128}}}}));
}

TEST(ServiceUpdateBody, EmptyListMeansLoopbackOnly) {
  EXPECT_EQ(service_update_body({}), json::object());
  EXPECT_EQ(service_update_body({std::vector<std::string>{}}), (json{{"allowed_ips", json::array()}}));
  EXPECT_EQ(service_update_body({std::vector<std::string>{"10.0.0.0/8"}}),
            (json{{"allowed_ips", {"10.0.0.0/8"}}}));
}

TEST(TokenCreateBody, OrganizationOnlyWhenGiven) {
  EXPECT_EQ(token_create_body({"operator", ""}), (json{{"role", "operator"}}));
  EXPECT_EQ(token_create_body({"customer", "acme"}), (json{{"role", "customer"}, {"organization", "acme"}}));
}

TEST(Paths, EscapedSegmentsAndQueries) {
  EXPECT_EQ(environment_path(""), "/v1/environments");
  EXPECT_EQ(environment_path("a/b"), "/v1/environments/a%2Fb");
  EXPECT_EQ(service_path("e1", ""), "/v1/environments/e1/services");
  EXPECT_EQ(service_path("e1", "s 1"), "/v1/environments/e1/services/s%201");
  EXPECT_EQ(profiles_path("e1"), "/v1/environments/e1/profiles");
  EXPECT_EQ(token_path("t1"), "/v1/tokens/t1");
  EXPECT_EQ(with_organization("/v1/environments", ""), "/v1/environments");
  EXPECT_EQ(with_organization("/v1/environments", "acme"), "/v1/environments?organization=acme");
  EXPECT_EQ(with_organization("/v1/services?environment=e1", "a=b&c"),
            "/v1/services?environment=e1&organization=a%3Db%26c");
  EXPECT_EQ(with_query("/v1/services", "environment", ""), "/v1/services");
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

namespace byoc::cli {
namespace {

TEST(ParseDuration, GoLikeTermsOrPlainSeconds) {
  EXPECT_EQ(parse_duration_seconds("90s"), 90);
  EXPECT_EQ(parse_duration_seconds("45m"), 2700);
  EXPECT_EQ(parse_duration_seconds("2h"), 7200);
  EXPECT_EQ(parse_duration_seconds("1h30m"), 5400);
  EXPECT_EQ(parse_duration_seconds("1h30m15s"), 5415);
  EXPECT_EQ(parse_duration_seconds("30m1h"), 5400) << "Go takes terms in any order";
  EXPECT_EQ(parse_duration_seconds("3600"), 3600);
  EXPECT_EQ(parse_duration_seconds("60"), 60);
  EXPECT_EQ(parse_duration_seconds("1s"), 1) << "with a unit, the server judges the minimum";
  EXPECT_EQ(parse_duration_seconds("2147483647s"), 2147483647);
  EXPECT_EQ(parse_duration_seconds("0h5m"), 300);
}

TEST(ParseDuration, RefusesAnythingElse) {
  for (const char* bad : {"", "2", "59", "2x", "-1h", "1h-", "+1h", " 1h", "1h ", "1H", "h", "1.5h", "1hm", "1ms",
                          "0s", "0", "0h0m", "99999999999h", "99999999999999999999999s", "2147483648",
                          "2147483648s", "596524h", "1h2147483647s"})
    EXPECT_EQ(parse_duration_seconds(bad), std::nullopt) << "`" << bad << "`";
}

TEST(FormatDuration, ShortestGoLikeForm) {
  EXPECT_EQ(format_duration_seconds(7200), "2h");
  EXPECT_EQ(format_duration_seconds(5400), "1h30m");
  EXPECT_EQ(format_duration_seconds(90), "1m30s");
  EXPECT_EQ(format_duration_seconds(3601), "1h1s");
  EXPECT_EQ(format_duration_seconds(59), "59s");
  EXPECT_EQ(format_duration_seconds(0), "0s");
  for (int64_t s : {60, 61, 3599, 3600, 86399, 2147483647})
    EXPECT_EQ(parse_duration_seconds(format_duration_seconds(s)), s) << s;
}

TEST(AccessRequestPaths, EscapeAndQuery) {
  EXPECT_EQ(access_requests_path("e 1"), "/v1/environments/e%201/access-requests");
  EXPECT_EQ(access_request_path("acc-1"), "/v1/access-requests/acc-1");
  EXPECT_EQ(access_request_path("a/b", "certificate"), "/v1/access-requests/a%2Fb/certificate");
  EXPECT_TRUE(valid_access_request_id("acc-0123abcd"));
  for (const char* bad : {"", ".", "..", ".hidden", "a/b", "a b", "acc-1\n"})
    EXPECT_FALSE(valid_access_request_id(bad)) << bad;
  EXPECT_EQ(access_request_body({"clickhouse-system", "why", 3600, "CSR"}),
            (json{{"scope", "clickhouse-system"}, {"reason", "why"}, {"duration_seconds", 3600}, {"csr", "CSR"}}));
  EXPECT_EQ(access_review_body("deny", "no"), (json{{"decision", "deny"}, {"reason", "no"}}));
  EXPECT_EQ(access_review_body("approve", "ok", "NOTE"),
            (json{{"decision", "approve"}, {"reason", "ok"}, {"customer_approval", "NOTE"}}));
}

}  // namespace
}  // namespace byoc::cli
