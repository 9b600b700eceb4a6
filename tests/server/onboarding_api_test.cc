// Onboarding of aws environments through the API: an environment waits
// AWAITING_CUSTOMER_ROLE showing its ExternalId, the role ARN expected and
// the template command; the account's fields are checked (and fixed once
// access is granted); verify says what is missing and changes nothing else.
#include <gtest/gtest.h>

#include "api_harness.h"
#include "controllers/environment_controller.h"

namespace byoc::server::test {
namespace {
using nlohmann::json;

constexpr const char* kEnvs = "/v1/environments";

json aws_env(json account = nullptr) {
  json body = {{"name", "prod"}, {"cloud", "aws"}, {"region", "eu-west-1"}, {"cidr", "10.1.0.0/16"},
               {"zones", {"a", "b"}}};
  if (!account.is_null()) body["account"] = account;
  return body;
}

TEST(OnboardingApi, AnAwsEnvironmentAwaitsItsRoleAndShowsWhatTheCustomerNeeds) {
  ApiHarness api;
  Answer a = api.call_json("POST", kEnvs, aws_env({{"account_id", "123456789012"}}));
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(a.body["steps"][1]["name"], "customer_access");
  EXPECT_EQ(a.body["steps"][1]["state"], "running");
  json env = api.call("GET", "/v1/environments/prod").body;
  EXPECT_EQ(env["state"], "AWAITING_CUSTOMER_ROLE");
  const json& account = env["account"];
  EXPECT_EQ(account["account_id"], "123456789012");
  EXPECT_EQ(account["role_name"], "ByocManagementRole");
  EXPECT_EQ(account["role_arn"], "arn:aws:iam::123456789012:role/ByocManagementRole");
  std::string external_id = account["external_id"];
  EXPECT_EQ(external_id.size(), std::string("byoc-").size() + 32);
  EXPECT_EQ(account["onboarding_template"],
            "byoc aws onboarding-template --management-account 111122223333 --external-id " + external_id);
  EXPECT_FALSE(account.contains("quick_create_url")) << "no published template is configured";
  // The list shows the same (it is written by another path).
  EXPECT_EQ(api.call("GET", kEnvs).body["items"][0]["account"], account);

  // Another environment gets another ExternalId.
  json other = aws_env({{"account_id", "123456789012"}});
  other["name"] = "stage";
  ASSERT_EQ(api.call_json("POST", kEnvs, other).status, 202);
  EXPECT_NE(api.call("GET", "/v1/environments/stage").body["account"]["external_id"], external_id);
}

TEST(OnboardingApi, TheAccountIsGivenLaterAndKeepsItsExternalId) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, aws_env()).status, 202);
  json env = api.call("GET", "/v1/environments/prod").body;
  EXPECT_FALSE(env["account"].contains("role_arn"));
  std::string external_id = env["account"]["external_id"];
  api.enqueued.clear();
  Answer patched = api.call_json("PATCH", "/v1/environments/prod",
                                 {{"account", {{"account_id", "210987654321"}, {"role_name", "Partner.Role"}}}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.body["account"]["role_arn"], "arn:aws:iam::210987654321:role/Partner.Role");
  EXPECT_EQ(patched.body["account"]["external_id"], external_id);
  EXPECT_NE(patched.body["account"]["onboarding_template"].get<std::string>().find("--role-name Partner.Role"),
            std::string::npos);
  EXPECT_EQ(api.enqueued.size(), 1u) << "a new account is checked at once";
  api.enqueued.clear();
  ASSERT_EQ(api.call_json("PATCH", "/v1/environments/prod", {{"instance_types", {"m7gd.xlarge"}}}).status, 200);
  EXPECT_EQ(api.enqueued.size(), 1u) << "new node types: the stack follows";
  api.enqueued.clear();
  ASSERT_EQ(api.call_json("PATCH", "/v1/environments/prod", {{"instance_types", {"m7gd.xlarge"}}}).status, 200);
  EXPECT_TRUE(api.enqueued.empty()) << "nothing changed";
}

TEST(OnboardingApi, BadAccountFieldsAreRefusedAndChangeNothing) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, {{"name", "local1"}, {"cloud", "local"}, {"cidr", "10.2.0.0/16"}}).status,
            202);
  size_t rows = api.rows();
  struct Case {
    json body;
    int status;
    std::string code, field;
  };
  const std::vector<Case> cases = {
      {aws_env({{"account_id", "12345678901"}}), 422, "invalid_value", "account.account_id"},
      {aws_env({{"account_id", "12345678901a"}}), 422, "invalid_value", "account.account_id"},
      {aws_env({{"account_id", 123456789012}}), 400, "invalid_type", "account.account_id"},
      {aws_env({{"role_name", "byoc-role"}}), 422, "reserved_name", "account.role_name"},
      {aws_env({{"role_name", "BYOC-Role"}}), 422, "reserved_name", "account.role_name"},
      {aws_env({{"role_name", std::string(49, 'r')}}), 422, "invalid_value", "account.role_name"},
      {aws_env({{"role_name", "a/b"}}), 422, "invalid_value", "account.role_name"},
      {aws_env({{"external_id", "mine"}}), 422, "unknown_field", "account.external_id"},
      {aws_env({{"role_arn", "arn:aws:iam::1:role/x"}}), 422, "unknown_field", "account.role_arn"},
      {aws_env(json::array()), 400, "invalid_type", "account"},
      {json{{"name", "x"}, {"cloud", "local"}, {"cidr", "10.3.0.0/16"}, {"account", {{"account_id", "123456789012"}}}},
       422, "unsupported_for_cloud", "account"},
  };
  for (const auto& c : cases) {
    Answer a = api.call_json("POST", kEnvs, c.body);
    EXPECT_EQ(a.status, c.status) << c.body << " → " << a.body;
    EXPECT_EQ(a.body["error"]["code"], c.code) << c.body;
    EXPECT_EQ(a.body["error"]["field"], c.field) << c.body;
  }
  Answer local = api.call_json("PATCH", "/v1/environments/local1", {{"account", {{"account_id", "123456789012"}}}});
  EXPECT_EQ(local.status, 422);
  EXPECT_EQ(api.rows(), rows);
}

TEST(OnboardingApi, OnceGrantedTheAccountIsFixed) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, aws_env({{"account_id", "123456789012"}})).status, 202);
  api.store->transact([&](store::Transaction& tx) {
    auto e = tx.environments().by_name("default", "prod");
    cloud::AccessCheck granted;
    granted.granted = true;
    ASSERT_TRUE(controllers::apply_access_check(*e, granted, 1));
    tx.environments().put(*e);
  });
  Answer a = api.call_json("PATCH", "/v1/environments/prod", {{"account", {{"account_id", "210987654321"}}}});
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_EQ(a.body["error"]["code"], "account_fixed");
  EXPECT_EQ(api.call("GET", "/v1/environments/prod").body["account"]["account_id"], "123456789012");
}

TEST(OnboardingApi, VerifyReportsTheCheckAndRecordsIt) {
  ApiHarness api;
  ASSERT_EQ(api.call_json("POST", kEnvs, aws_env()).status, 202);
  Answer v = api.call("POST", "/v1/environments/prod/verify", "");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_FALSE(v.body["granted"].get<bool>());
  EXPECT_EQ(v.body["reason"], "account_id_missing");
  EXPECT_EQ(v.body["state"], "AWAITING_CUSTOMER_ROLE");
  json env = api.call("GET", "/v1/environments/prod").body;
  EXPECT_EQ(env["message"], v.body["message"]);
  bool recorded = false;
  for (const auto& c : env["conditions"])
    if (c["type"] == "customer_access") recorded = c["reason"] == "account_id_missing" && !c["status"].get<bool>();
  EXPECT_TRUE(recorded) << env;

  // With the account but no AWS configuration on this server: named, and
  // nothing was sent anywhere (the check stops at the plane's credentials).
  ASSERT_EQ(api.call_json("PATCH", "/v1/environments/prod", {{"account", {{"account_id", "123456789012"}}}}).status, 200);
  v = api.call("POST", "/v1/environments/prod/verify", "{}");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.body["reason"], "aws_not_configured") << v.body;
  EXPECT_NE(v.body["message"].get<std::string>().find("BYOC_AWS_API_ALLOWED_CIDRS"), std::string::npos) << v.body;

  ASSERT_EQ(api.call_json("POST", kEnvs, {{"name", "ext"}, {"cloud", "external"}, {"cidr", "10.2.0.0/16"}}).status,
            202);
  Answer ext = api.call("POST", "/v1/environments/ext/verify", "");
  EXPECT_EQ(ext.status, 409);
  EXPECT_EQ(ext.body["error"]["code"], "not_applicable");
  EXPECT_EQ(api.call("POST", "/v1/environments/nope/verify", "").status, 404);
  EXPECT_EQ(api.call("POST", "/v1/environments/prod/verify", R"({"now":true})").status, 422);
}

}  // namespace
}  // namespace byoc::server::test
