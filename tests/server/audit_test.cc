// The routes' declarations and the audit seam: each route names its action,
// who may call it and whether it changes state, and the dispatcher hands one
// record per changing call to the sink — who, what, on what, with which result.
#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "api_harness.h"
#include "base/error.h"

namespace byoc::server::test {
namespace {
using nlohmann::json;

TEST(Routes, EachDeclaresAnActionAndAnEffectThatFitsItsMethod) {
  ApiHarness api;
  std::set<std::string> actions;
  const std::regex action_form("[a-z_]+\\.[a-z_]+");
  for (const auto& spec : api.routes()) {
    EXPECT_TRUE(std::regex_match(spec.action, action_form)) << spec.action;
    EXPECT_TRUE(actions.insert(spec.action).second) << spec.action << " twice";
    if (spec.method == "GET") {
      EXPECT_EQ(spec.effect, Effect::kRead) << spec.action;
    } else {
      EXPECT_NE(spec.effect, Effect::kRead) << spec.action << ": a " << spec.method << " changes something";
    }
    // Only the agent channel reports, and only it authenticates without an API token.
    bool agent_channel = spec.pattern.rfind("/v1/agent/", 0) == 0;
    EXPECT_EQ(spec.access == Access::kAgent, agent_channel) << spec.action;
    if (spec.effect == Effect::kReport) {
      EXPECT_TRUE(agent_channel) << spec.action;
    }
    if (spec.access == Access::kPublic) {
      EXPECT_EQ(spec.method, "GET") << spec.action;
    }
  }
}

TEST(Routes, TheRouterRefusesAnActionOrRouteNamedTwice) {
  Router router;
  auto handler = [](HttpRequest&, std::shared_ptr<Responder>) {};
  router.add({"GET", "/a", "thing.get", Access::kPublic, Effect::kRead}, handler);
  EXPECT_THROW(router.add({"GET", "/b", "thing.get", Access::kPublic, Effect::kRead}, handler), Error);
  EXPECT_THROW(router.add({"GET", "/a", "thing.other", Access::kPublic, Effect::kRead}, handler), Error);
  EXPECT_THROW(router.add({"GET", "/c", "", Access::kPublic, Effect::kRead}, handler), Error);
}

class AuditTest : public ::testing::Test {
 protected:
  AuditTest() {
    Answer t = api.call_json("POST", "/v1/tokens",
                             {{"role", "operator"}, {"organization", "default"}, {"subject", "bob@vendor.example"}});
    EXPECT_EQ(t.status, 201);
    operator_token = t.body["token"];
    operator_id = t.body["id"];
  }
  AuditRecord last() {
    auto all = api.audited();
    EXPECT_FALSE(all.empty());
    return all.empty() ? AuditRecord{} : all.back();
  }
  ApiHarness api;
  std::string operator_token;
  std::string operator_id;
};

TEST_F(AuditTest, ACreateNamesTheActorTheActionTheOrganisationAndWhatItMade) {
  Answer a = api.call_json("POST", "/v1/environments", {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}});
  ASSERT_EQ(a.status, 202);
  AuditRecord r = last();
  EXPECT_EQ(r.action, "environment.create");
  EXPECT_EQ(r.actor.kind, "token");
  EXPECT_EQ(r.actor.role, "admin");
  EXPECT_EQ(r.organization, "default");
  Answer env = api.call("GET", "/v1/environments/e");
  EXPECT_EQ(r.created_id, env.body["id"]);
  EXPECT_EQ(r.outcome, "succeeded");
  EXPECT_EQ(r.status, 202);
  EXPECT_TRUE(r.object.empty());
  EXPECT_FALSE(r.request_id.empty());
  EXPECT_EQ(r.unix_millis, 1'800'000'000'000);
}

TEST_F(AuditTest, ARefusedCallIsAuditedWithItsErrorAndChangesNothing) {
  size_t rows = api.rows();
  Answer denied = api.call("POST", "/v1/environments", R"({"name":"e","cloud":"external","cidr":"10.0.0.0/16"})",
                           "application/json", operator_token);
  ASSERT_EQ(denied.status, 403);
  AuditRecord r = last();
  EXPECT_EQ(r.outcome, "denied");
  EXPECT_EQ(r.error_code, denied.body["error"]["code"]);
  EXPECT_EQ(r.actor.id, operator_id);
  EXPECT_EQ(r.actor.subject, "bob@vendor.example");
  EXPECT_EQ(r.created_id, "");

  Answer invalid = api.call_json("POST", "/v1/environments", {{"name", "E!"}, {"cloud", "external"}});
  ASSERT_EQ(invalid.status, 422);
  r = last();
  EXPECT_EQ(r.outcome, "refused");
  EXPECT_EQ(r.error_code, invalid.body["error"]["code"]);
  EXPECT_EQ(api.rows(), rows);
}

TEST_F(AuditTest, ACallWithoutAVerifiedTokenIsAnonymous) {
  Answer a = api.call("DELETE", "/v1/environments/e", "", "", "byoc_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  ASSERT_EQ(a.status, 401);
  AuditRecord r = last();
  EXPECT_EQ(r.action, "environment.delete");
  EXPECT_EQ(r.actor.kind, "anonymous");
  EXPECT_EQ(r.actor.id, "");
  EXPECT_EQ(r.object, (std::map<std::string, std::string>{{"env", "e"}}));
  EXPECT_EQ(r.organization, "");
}

// A change admitted (from the verified-token cache) just before its token is
// revoked, and queued behind other store work meanwhile, is refused: the
// token is checked again inside the change's own transaction.
TEST_F(AuditTest, AChangeQueuedWhileItsTokenIsRevokedIsRefusedAndChangesNothing) {
  ASSERT_EQ(api.call("GET", "/v1/environments").status, 200);  // the admin token is now known
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  api.context().store_pool.post([released] { released.wait(); });  // the pool's one thread is busy
  auto pending = api.call_async("POST", "/v1/environments", R"({"name":"late","cloud":"external","cidr":"10.0.0.0/16"})");
  api.store->transact([&](store::Transaction& tx) {
    for (const auto& t : tx.api_tokens().list())
      if (t.role == "admin") tx.api_tokens().remove(t.id);
  });
  release.set_value();
  Answer a = pending.get();
  EXPECT_EQ(a.status, 401) << a.body.dump();
  api.store->read([&](store::Transaction& tx) { EXPECT_TRUE(tx.environments().list("").empty()); });
  EXPECT_EQ(last().outcome, "denied");
}

TEST_F(AuditTest, ReadsAreNotAudited) {
  size_t before = api.audited().size();
  EXPECT_EQ(api.call("GET", "/v1/environments").status, 200);
  EXPECT_EQ(api.call("GET", "/v1/environments", "", "", operator_token).status, 200);
  EXPECT_EQ(api.call("GET", "/v1/tokens", "", "", operator_token).status, 403);
  EXPECT_EQ(api.audited().size(), before);
}

TEST_F(AuditTest, TheRecordCarriesNoSecret) {
  Answer t = api.call_json("POST", "/v1/tokens", {{"role", "customer"}, {"organization", "default"}});
  ASSERT_EQ(t.status, 201);
  AuditRecord r = last();
  EXPECT_EQ(r.action, "token.create");
  EXPECT_EQ(r.created_id, t.body["id"]);
  std::string line = format_audit(r);
  EXPECT_EQ(line.find(t.body["token"].get<std::string>()), std::string::npos);
  EXPECT_EQ(line.find(api.admin_token), std::string::npos);
  json parsed = json::parse(line);
  EXPECT_EQ(parsed["actor"]["kind"], "token");
  EXPECT_EQ(parsed["action"], "token.create");
}

}  // namespace
}  // namespace byoc::server::test
