// The customer policy file: defaults, strict parsing, one readable line per error.
#include "agent/policy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {

Error parse_error(const std::string& text) {
  try {
    parse_customer_policy(text);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << text;
  return Error::Internal("accepted");
}

TEST(CustomerPolicy, AbsentFileGivesSafeDefaults) {
  testing::TempDir dir;
  CustomerPolicy p = load_customer_policy(dir.path());
  EXPECT_TRUE(p.vendor_support_access);
  EXPECT_FALSE(p.public_endpoint_allowed);
  EXPECT_EQ(p.widest_allowlist_prefix_v4, 8);
  EXPECT_EQ(p.widest_allowlist_prefix_v6, 32);
  EXPECT_FALSE(p.vendor_may_reset_default_password);
  // The Kubernetes API only when the customer lists it: a file written
  // before the scope existed allows no more than it did.
  EXPECT_EQ(p.support_access_scopes, std::vector<std::string>{"clickhouse-system"});
}

TEST(CustomerPolicy, SupportScopesAreKnownScopesEachOnceAndAtLeastOne) {
  EXPECT_EQ(parse_customer_policy(R"({"support_access_scopes": ["kubernetes-readonly"]})").support_access_scopes,
            std::vector<std::string>{"kubernetes-readonly"});
  for (const char* text : {R"({"support_access_scopes": []})", R"({"support_access_scopes": "clickhouse-system"})",
                           R"({"support_access_scopes": ["kubernetes"]})",
                           R"({"support_access_scopes": ["clickhouse-system", "clickhouse-system"]})",
                           R"({"support_access_scopes": [1]})"}) {
    Error e = parse_error(text);
    EXPECT_EQ(e.field(), "support_access_scopes") << text;
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(CustomerPolicy, EveryFieldIsRead) {
  const std::string key = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  CustomerPolicy p =
      parse_customer_policy(R"({"vendor_support_access": false, "public_endpoint_allowed": true,
      "widest_allowlist_prefix_v4": 0, "widest_allowlist_prefix_v6": 128,
      "vendor_may_reset_default_password": true, "require_customer_approval": true,
      "customer_approver_keys": [")" + key + R"("], "max_support_grant_seconds": 3600,
      "support_access_scopes": ["kubernetes-readonly", "clickhouse-system"]})");
  EXPECT_EQ(p, (CustomerPolicy{false, true, 0, 128, true, true, {key}, 3600,
                               {"kubernetes-readonly", "clickhouse-system"}}));
  EXPECT_EQ(parse_customer_policy(to_json(p).dump()), p);
}

TEST(CustomerPolicy, CustomerApprovalNeedsWellFormedKeysAndAGrantLengthInRange) {
  auto refused = [](const std::string& text, const std::string& field) {
    try {
      parse_customer_policy(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.field(), field) << text << ": " << e.what();
    }
  };
  refused(R"({"require_customer_approval": true})", "customer_approver_keys");
  refused(R"({"customer_approver_keys": ["not a key"]})", "customer_approver_keys[0]");
  refused(R"({"customer_approver_keys": "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"})",
          "customer_approver_keys");
  refused(R"({"customer_approver_keys": ["PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="]})",
          "customer_approver_keys[0]");
  refused(R"({"max_support_grant_seconds": 59})", "max_support_grant_seconds");
  refused(R"({"max_support_grant_seconds": 604801})", "max_support_grant_seconds");
  refused(R"({"max_support_grant_seconds": "1h"})", "max_support_grant_seconds");
}

TEST(CustomerPolicy, MissingFieldsKeepTheirDefaults) {
  CustomerPolicy p = parse_customer_policy(R"({"public_endpoint_allowed": true})");
  CustomerPolicy expected;
  expected.public_endpoint_allowed = true;
  EXPECT_EQ(p, expected);
  EXPECT_EQ(parse_customer_policy("{}"), CustomerPolicy{});
}

TEST(CustomerPolicy, UnknownFieldsAndBadTypesAreRefusedWithOneLine) {
  struct Case {
    const char* text;
    const char* field;
  };
  const Case cases[] = {
      {R"({"public_endpoints_allowed": true})", "public_endpoints_allowed"},  // a typo must not pass
      {R"({"vendor_support_access": "no"})", "vendor_support_access"},
      {R"({"vendor_support_access": 0})", "vendor_support_access"},
      {R"({"public_endpoint_allowed": null})", "public_endpoint_allowed"},
      {R"({"widest_allowlist_prefix_v4": 8.5})", "widest_allowlist_prefix_v4"},
      {R"({"widest_allowlist_prefix_v4": "8"})", "widest_allowlist_prefix_v4"},
      {R"({"widest_allowlist_prefix_v4": 33})", "widest_allowlist_prefix_v4"},
      {R"({"widest_allowlist_prefix_v4": -1})", "widest_allowlist_prefix_v4"},
      {R"({"widest_allowlist_prefix_v6": 129})", "widest_allowlist_prefix_v6"},
      {R"({"widest_allowlist_prefix_v6": 18446744073709551615})", "widest_allowlist_prefix_v6"},
      {R"({"vendor_may_reset_default_password": [true]})", "vendor_may_reset_default_password"},
      {R"([])", ""},
      {R"("public")", ""},
      {R"({"public_endpoint_allowed": true)", ""},
      {"", ""},
  };
  for (const auto& c : cases) {
    Error e = parse_error(c.text);
    EXPECT_EQ(e.code(), "invalid_policy") << c.text;
    EXPECT_EQ(e.field(), c.field) << c.text;
    std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find("policy.json"), std::string::npos) << message;
    if (*c.field) {
      EXPECT_NE(message.find(c.field), std::string::npos) << message;
    }
  }
}

TEST(CustomerPolicy, LoadsTheFileInTheStateDir) {
  testing::TempDir dir;
  files::write_atomic(dir.path() / "policy.json", R"({"vendor_support_access": false})", 0600);
  EXPECT_FALSE(load_customer_policy(dir.path()).vendor_support_access);
  files::write_atomic(dir.path() / "policy.json", R"({"vendor_support_acess": false})", 0600);
  try {
    load_customer_policy(dir.path());
    FAIL() << "a misspelt field was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path() / "policy.json").string()), std::string::npos)
        << e.what();
  }
}

TEST(CustomerPolicy, AFileOthersMayWriteIsRefused) {
  testing::TempDir dir;
  files::write_atomic(dir.path() / "policy.json", "{}", 0600);
  EXPECT_NO_THROW(load_customer_policy(dir.path()));
  ::chmod((dir.path() / "policy.json").c_str(), 0666);
  EXPECT_THROW(load_customer_policy(dir.path()), Error);
  ::chmod((dir.path() / "policy.json").c_str(), 0620);
  EXPECT_THROW(load_customer_policy(dir.path()), Error);
  ::chmod((dir.path() / "policy.json").c_str(), 0644);
  EXPECT_NO_THROW(load_customer_policy(dir.path()));
}

TEST(CustomerPolicy, ADirectoryInItsPlaceIsRefused) {
  testing::TempDir dir;
  std::filesystem::create_directory(dir.path() / "policy.json");
  EXPECT_THROW(load_customer_policy(dir.path()), Error);
}

}  // namespace
}  // namespace byoc::agent
