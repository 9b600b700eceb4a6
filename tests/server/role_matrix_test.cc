// Every route × every kind of caller: the roles, a customer of another
// organisation, no token and a bad token. Each cell runs on a fresh store.
#include <gtest/gtest.h>

#include "api_harness.h"
#include "base/crypto.h"

namespace byoc::server::test {
namespace {
using nlohmann::json;

enum Caller { kAdmin, kOperator, kApprover, kCustomer, kOtherCustomer, kNoToken, kBadToken, kCallers };
const char* kCallerNames[] = {"admin", "operator", "approver", "customer", "other_customer", "no_token", "bad_token"};

struct Route {
  std::string name;
  std::string method;
  std::string target;  // {op} and {token} are filled in per cell
  std::string body;
  std::array<int, kCallers> expected;
};

// A store with organisations default and acme, a token per caller, an
// environment `e` with service `s` (and an operation), and an empty environment `empty`.
struct World {
  World() {
    EXPECT_EQ(api.call_json("POST", "/v1/organizations", {{"name", "acme"}}).status, 201);
    for (auto [role, org] : {std::pair{"admin", "default"}, {"operator", "default"}, {"approver", "default"},
                             {"customer", "default"}, {"customer", "acme"}}) {
      Answer t = api.call_json("POST", "/v1/tokens",
                               {{"role", role}, {"organization", org}, {"subject", std::string(role) + "@example.com"}});
      EXPECT_EQ(t.status, 201) << t.body.dump();
      tokens.push_back(t.body["token"]);
      token_ids.push_back(t.body["id"]);
    }
    tokens.push_back("");
    tokens.push_back("byoc_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    const json env = {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}};
    EXPECT_EQ(api.call_json("POST", "/v1/environments", env).status, 202);
    json empty = env;
    empty["name"] = "empty";
    EXPECT_EQ(api.call_json("POST", "/v1/environments", empty).status, 202);
    EXPECT_EQ(api.call_json("POST", "/v1/environments",
                            {{"name", "cloudy"}, {"cloud", "aws"}, {"region", "us-east-1"}, {"cidr", "10.8.0.0/16"}})
                  .status,
              202);
    Answer svc = api.call_json("POST", "/v1/environments/e/services", {{"name", "s"}});
    EXPECT_EQ(svc.status, 202);
    operation = svc.body["id"];
    // An access request on `e` by the operator.
    Answer acc = api.call("POST", "/v1/environments/e/access-requests", access_request_body(), "application/json",
                          tokens[kOperator]);
    EXPECT_EQ(acc.status, 201) << acc.body.dump();
    access_request = acc.body["id"];
    // A pending upgrade of `s`, as the upgrade controller opens one.
    api.store->transact([&](store::Transaction& tx) {
      model::Upgrade u;
      u.id = "upg-0123456789abcdef";
      u.environment_id = tx.environments().by_name("default", "e")->id;
      u.organization = "default";
      u.service_name = "s";
      u.from_version = "18.16.1";
      u.to_version = "18.16.1-r2";
      tx.upgrades().put(u);
    });
  }
  static std::string access_request_body() {
    static const std::string body =
        json{{"scope", "clickhouse-system"},
             {"reason", "disk full on replica 2"},
             {"duration_seconds", 3600},
             {"csr", crypto::make_csr(crypto::generate_key_pem(), "engineer")}}
            .dump();
    return body;
  }
  ApiHarness api;
  std::vector<std::string> tokens;
  std::vector<std::string> token_ids;
  std::string operation;
  std::string access_request;
};

std::vector<Route> routes() {
  //                                                   admin oper  appr  cust  other none  bad
  return {
      {"healthz", "GET", "/healthz", "", {200, 200, 200, 200, 200, 200, 200}},
      {"metrics", "GET", "/metrics", "", {200, 200, 200, 200, 200, 200, 200}},
      {"openapi", "GET", "/v1/openapi.json", "", {200, 200, 200, 200, 200, 200, 200}},
      {"clouds", "GET", "/v1/clouds", "", {200, 200, 200, 200, 200, 401, 401}},
      {"env_create", "POST", "/v1/environments", R"({"name":"n","cloud":"external","cidr":"10.9.0.0/16"})",
       {202, 403, 403, 202, 202, 401, 401}},
      {"env_list", "GET", "/v1/environments", "", {200, 200, 200, 200, 200, 401, 401}},
      {"env_list_other_org", "GET", "/v1/environments?organization=acme", "", {200, 200, 200, 404, 200, 401, 401}},
      {"env_list_unknown_org", "GET", "/v1/environments?organization=nope", "", {404, 404, 404, 404, 404, 401, 401}},
      {"env_get", "GET", "/v1/environments/e", "", {200, 200, 200, 200, 404, 401, 401}},
      {"env_patch", "PATCH", "/v1/environments/cloudy", R"({"daemonsets":{"cpu_millis":100}})",
       {200, 403, 403, 200, 404, 401, 401}},
      {"env_profiles", "GET", "/v1/environments/cloudy/profiles", "", {200, 200, 200, 200, 404, 401, 401}},
      {"env_usage", "GET", "/v1/environments/e/usage", "", {200, 200, 200, 200, 404, 401, 401}},
      {"env_delete", "DELETE", "/v1/environments/empty", "", {202, 403, 403, 202, 404, 401, 401}},
      // `e` is READY: writers learn it isn't FAILED.
      {"env_retry", "POST", "/v1/environments/e/retry", "", {409, 403, 403, 409, 404, 401, 401}},
      // `cloudy` (aws) awaits its customer's role: writers check it.
      {"env_verify", "POST", "/v1/environments/cloudy/verify", "", {200, 403, 403, 200, 404, 401, 401}},
      {"join_token", "POST", "/v1/environments/e/join-tokens", "{}", {201, 403, 403, 201, 404, 401, 401}},
      {"svc_create", "POST", "/v1/environments/e/services", R"({"name":"t"})", {202, 403, 403, 202, 404, 401, 401}},
      {"svc_list", "GET", "/v1/environments/e/services", "", {200, 200, 200, 200, 404, 401, 401}},
      {"svc_get", "GET", "/v1/environments/e/services/s", "", {200, 200, 200, 200, 404, 401, 401}},
      {"svc_patch", "PATCH", "/v1/environments/e/services/s", R"({"allowed_ips":["10.0.0.0/8"]})",
       {202, 403, 403, 202, 404, 401, 401}},
      {"svc_delete", "DELETE", "/v1/environments/e/services/s", "", {202, 403, 403, 202, 404, 401, 401}},
      {"env_maintenance_get", "GET", "/v1/environments/e/maintenance", "", {200, 200, 200, 200, 404, 401, 401}},
      {"env_maintenance_put", "PUT", "/v1/environments/e/maintenance", R"({"channel":"fast"})",
       {200, 403, 403, 200, 404, 401, 401}},
      {"svc_maintenance_get", "GET", "/v1/environments/e/services/s/maintenance", "",
       {200, 200, 200, 200, 404, 401, 401}},
      {"svc_maintenance_put", "PUT", "/v1/environments/e/services/s/maintenance", R"({"channel":"slow"})",
       {200, 403, 403, 200, 404, 401, 401}},
      {"svc_maintenance_delete", "DELETE", "/v1/environments/e/services/s/maintenance", "",
       {200, 403, 403, 200, 404, 401, 401}},
      {"version_publish", "POST", "/v1/versions", R"({"kind":"clickhouse","name":"18.16.1-r2"})",
       {201, 403, 403, 403, 403, 401, 401}},
      {"version_list", "GET", "/v1/versions", "", {200, 200, 200, 200, 200, 401, 401}},
      {"upgrade_list", "GET", "/v1/environments/e/upgrades", "", {200, 200, 200, 200, 404, 401, 401}},
      {"upgrade_start", "POST", "/v1/environments/e/upgrades/upg-0123456789abcdef/start", "",
       {200, 403, 403, 200, 404, 401, 401}},
      {"upgrade_pause", "POST", "/v1/environments/e/upgrades/upg-0123456789abcdef/pause", "",
       {200, 403, 403, 200, 404, 401, 401}},
      // Pending, not paused: writers learn it can't be resumed.
      {"upgrade_resume", "POST", "/v1/environments/e/upgrades/upg-0123456789abcdef/resume", "",
       {409, 403, 403, 409, 404, 401, 401}},
      {"upgrade_defer", "POST", "/v1/environments/e/upgrades/upg-0123456789abcdef/defer", R"({"days":3})",
       {200, 403, 403, 200, 404, 401, 401}},
      {"services_all", "GET", "/v1/services", "", {200, 200, 200, 200, 200, 401, 401}},
      {"services_filtered", "GET", "/v1/services?environment=e", "", {200, 200, 200, 200, 404, 401, 401}},
      {"operation_get", "GET", "/v1/operations/{op}", "", {200, 200, 200, 200, 404, 401, 401}},
      {"org_create", "POST", "/v1/organizations", R"({"name":"newco"})", {201, 403, 403, 403, 403, 401, 401}},
      {"org_list", "GET", "/v1/organizations", "", {200, 403, 403, 403, 403, 401, 401}},
      {"token_create", "POST", "/v1/tokens", R"({"role":"customer"})", {201, 403, 403, 403, 403, 401, 401}},
      {"token_list", "GET", "/v1/tokens", "", {200, 403, 403, 403, 403, 401, 401}},
      {"token_delete", "DELETE", "/v1/tokens/{token}", "", {204, 403, 403, 403, 403, 401, 401}},
      {"server_list", "GET", "/v1/servers", "", {200, 403, 403, 403, 403, 401, 401}},
      {"audit_key", "GET", "/v1/audit/key", "", {200, 200, 200, 200, 200, 401, 401}},
      {"audit_list", "GET", "/v1/environments/e/audit", "", {200, 200, 200, 200, 404, 401, 401}},
      {"audit_checkpoint", "GET", "/v1/environments/e/audit/checkpoint", "", {200, 200, 200, 200, 404, 401, 401}},
      {"audit_inclusion", "GET", "/v1/environments/e/audit/proof/inclusion?index=0&size=2", "",
       {200, 200, 200, 200, 404, 401, 401}},
      {"audit_consistency", "GET", "/v1/environments/e/audit/proof/consistency?first=1&second=2", "",
       {200, 200, 200, 200, 404, 401, 401}},
      {"plane_audit_list", "GET", "/v1/audit", "", {200, 403, 403, 403, 403, 401, 401}},
      {"plane_audit_checkpoint", "GET", "/v1/audit/checkpoint", "", {200, 403, 403, 403, 403, 401, 401}},
      {"plane_audit_inclusion", "GET", "/v1/audit/proof/inclusion?index=0&size=1", "",
       {200, 403, 403, 403, 403, 401, 401}},
      {"plane_audit_consistency", "GET", "/v1/audit/proof/consistency?first=1&second=2", "",
       {200, 403, 403, 403, 403, 401, 401}},
      {"access_create", "POST", "/v1/environments/e/access-requests", World::access_request_body(),
       {403, 201, 403, 403, 403, 401, 401}},
      {"access_list", "GET", "/v1/environments/e/access-requests", "", {200, 200, 200, 200, 404, 401, 401}},
      {"access_get", "GET", "/v1/access-requests/{acc}", "", {200, 200, 200, 200, 404, 401, 401}},
      {"access_review", "POST", "/v1/access-requests/{acc}/reviews", R"({"decision":"approve","reason":"ok"})",
       {403, 403, 200, 200, 404, 401, 401}},
      // Only the requester collects it; until the agent issued it, 409.
      {"access_certificate", "GET", "/v1/access-requests/{acc}/certificate", "", {403, 409, 403, 403, 404, 401, 401}},
      {"access_revoke", "POST", "/v1/access-requests/{acc}/revoke", "{}", {200, 403, 200, 200, 404, 401, 401}},
      {"access_done", "POST", "/v1/access-requests/{acc}/done", "{}", {403, 200, 403, 403, 403, 401, 401}},
      {"agent_join", "POST", "/v1/agent/join", R"({"token":"byocjoin_x","csr":"x"})",
       {401, 401, 401, 401, 401, 401, 401}},
      {"agent_sync", "POST", "/v1/agent/sync", R"({"protocol_version":1})", {401, 401, 401, 401, 401, 401, 401}},
      {"agent_renew", "POST", "/v1/agent/renew", R"({"csr":"x"})", {401, 401, 401, 401, 401, 401, 401}},
  };
}

class RoleMatrix : public ::testing::TestWithParam<Route> {};

TEST_P(RoleMatrix, EachCallerGetsItsStatus) {
  const Route& route = GetParam();
  for (int caller = 0; caller < kCallers; ++caller) {
    World w;
    std::string target = route.target;
    if (auto p = target.find("{op}"); p != std::string::npos) target.replace(p, 4, w.operation);
    if (auto p = target.find("{acc}"); p != std::string::npos) target.replace(p, 5, w.access_request);
    // The token deleted is the customer's, never the caller's own.
    if (auto p = target.find("{token}"); p != std::string::npos) target.replace(p, 7, w.token_ids[kCustomer]);
    std::string token = w.tokens[caller];
    size_t audited_before = w.api.audited().size();
    Answer a = w.api.call(route.method, target, route.body, route.body.empty() ? "" : "application/json",
                          token.empty() ? "" : token);
    EXPECT_EQ(a.status, route.expected[caller]) << route.name << " as " << kCallerNames[caller] << ": " << a.body.dump();
    // Every call of a changing route is audited once, allowed or not, with
    // the answer given and the token that asked; reads and reports are not.
    auto audited = w.api.audited();
    bool changes = route.method != "GET" && route.name != "agent_sync";
    ASSERT_EQ(audited.size() - audited_before, changes ? 1u : 0u) << route.name << " as " << kCallerNames[caller];
    if (changes) {
      const AuditRecord& r = audited.back();
      EXPECT_EQ(r.status, a.status) << route.name;
      EXPECT_EQ(r.outcome, audit_outcome(a.status)) << route.name;
      bool known_token = caller < kNoToken && route.name.rfind("agent_", 0) != 0;
      EXPECT_EQ(r.actor.kind, known_token ? "token" : "anonymous") << route.name << " as " << kCallerNames[caller];
      if (known_token) {
        EXPECT_EQ(r.actor.id, w.token_ids[caller]);
        EXPECT_EQ(r.actor.subject, std::string(kCallerNames[caller] == std::string("other_customer")
                                                   ? "customer"
                                                   : kCallerNames[caller]) + "@example.com");
      }
    }
    if (a.status >= 400) {
      EXPECT_TRUE(a.body.contains("error")) << a.body.dump();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Routes, RoleMatrix, ::testing::ValuesIn(routes()),
                         [](const ::testing::TestParamInfo<Route>& info) { return info.param.name; });

TEST(RoleMatrix, CoversEveryRegisteredRoute) {
  ApiHarness api;
  std::set<std::string> covered;
  for (const auto& r : routes()) {
    std::string path = r.target.substr(0, r.target.find('?'));
    covered.insert(r.method + " " + path);
  }
  for (const auto& spec : api.routes()) {
    const std::string& method = spec.method;
    const std::string& pattern = spec.pattern;
    // Map the pattern's parameters to the values used above.
    std::string path = pattern;
    for (auto [param, value] : {std::pair{"{env}", "e"}, {"{svc}", "s"}, {"{id}", "{op}"}}) {
      if (auto p = path.find(param); p != std::string::npos) path.replace(p, std::string(param).size(), value);
    }
    if (method == "DELETE" && path == "/v1/environments/e") path = "/v1/environments/empty";
    if (path == "/v1/environments/e/profiles" || path == "/v1/environments/e/verify" ||
        (method == "PATCH" && path == "/v1/environments/e"))
      path.replace(0, std::string("/v1/environments/e").size(), "/v1/environments/cloudy");
    if (path == "/v1/tokens/{op}") path = "/v1/tokens/{token}";
    if (path.rfind("/v1/access-requests/{op}", 0) == 0) path.replace(20, 4, "{acc}");
    if (path.rfind("/v1/environments/e/upgrades/{op}", 0) == 0) path.replace(28, 4, "upg-0123456789abcdef");
    EXPECT_TRUE(covered.count(method + " " + path)) << method << " " << pattern << " has no row in the matrix";
  }
}

TEST(Tokens, SecretIsShownOnceAndNeverListed) {
  ApiHarness api;
  Answer t = api.call_json("POST", "/v1/tokens", {{"role", "operator"}, {"subject", "oncall@vendor.example"}});
  ASSERT_EQ(t.status, 201);
  std::string secret = t.body["token"];
  Answer list = api.call("GET", "/v1/tokens");
  EXPECT_EQ(list.body.dump().find(secret.substr(secret.find('.') + 1)), std::string::npos);
  EXPECT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(api.call("GET", "/v1/environments", "", "", secret).status, 200);
  EXPECT_EQ(api.call("DELETE", "/v1/tokens/" + t.body["id"].get<std::string>()).status, 204);
  EXPECT_EQ(api.call("GET", "/v1/environments", "", "", secret).status, 401);
}

TEST(Idempotency, RepeatReturnsFirstAnswerRedactedAndCreatesNothing) {
  ApiHarness api;
  const json env = {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}};
  ASSERT_EQ(api.call_json("POST", "/v1/environments", env).status, 202);
  auto post = [&](const json& body, const std::string& key) {
    return api.call("POST", "/v1/environments/e/services", body.dump(), "application/json", "<admin>", key);
  };
  Answer first = post({{"name", "s"}}, "k-1");
  ASSERT_EQ(first.status, 202);
  EXPECT_GT(first.body["password"].get<std::string>().size(), 20u);
  Answer again = post({{"name", "s"}}, "k-1");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.body["id"], first.body["id"]);
  EXPECT_NE(again.body["password"], first.body["password"]);  // redacted, never re-shown
  EXPECT_EQ(api.call("GET", "/v1/environments/e/services").body["items"].size(), 1u);
  Answer reused = post({{"name", "other"}}, "k-1");
  EXPECT_EQ(reused.status, 422);
  EXPECT_EQ(reused.body["error"]["code"], "idempotency_key_reused");
  EXPECT_EQ(post({{"name", "s"}}, "k-2").status, 409);  // a new key is a new request
}

}  // namespace
}  // namespace byoc::server::test
