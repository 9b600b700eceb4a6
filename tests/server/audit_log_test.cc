// The audit logs behind the audit seam, through the real routes on both
// stores: a change and its entry are kept together (once, even when the
// store runs a transaction again); refusals are entries too, in the log of
// the environment they were about (or the plane's); what the routes serve —
// entries, checkpoint, proofs — verifies with nothing but the key.
#include <gtest/gtest.h>

#include "access/audit_verify.h"
#include "api_harness.h"
#include "base/crypto.h"

namespace byoc::server::test {
namespace {
using nlohmann::json;

class AuditLogTest : public ::testing::Test {
 protected:
  AuditLogTest() {
    EXPECT_EQ(api.call_json("POST", "/v1/organizations", {{"name", "acme"}}).status, 201);
    operator_token = token("operator", "default", "op@vendor.example");
    acme_customer = token("customer", "acme", "c@acme.example");
    EXPECT_EQ(api.call_json("POST", "/v1/environments", {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}})
                  .status,
              202);
    env_id = api.call("GET", "/v1/environments/e").body["id"];
    key = access::note::parse_verifier(api.call("GET", "/v1/audit/key").body["verifier_key"].get<std::string>());
  }

  std::string token(const std::string& role, const std::string& org, const std::string& subject) {
    Answer t = api.call_json("POST", "/v1/tokens", {{"role", role}, {"organization", org}, {"subject", subject}});
    EXPECT_EQ(t.status, 201);
    return t.body["token"];
  }

  // Every entry of a log, as the list route serves it (exact bytes), page by page.
  std::vector<std::string> entries(const std::string& base) {
    std::vector<std::string> out;
    for (;;) {
      Answer page = api.call("GET", base + "?start=" + std::to_string(out.size()) + "&limit=2");
      EXPECT_EQ(page.status, 200) << page.body.dump();
      if (page.status != 200 || page.body["items"].empty()) return out;
      for (const auto& item : page.body["items"]) {
        EXPECT_EQ(item["index"], out.size());
        auto bytes = crypto::base64_decode(item["entry_b64"].get<std::string>());
        EXPECT_TRUE(bytes);
        EXPECT_EQ(json::parse(*bytes), item["entry"]);
        out.push_back(*bytes);
      }
    }
  }

  std::string raw_checkpoint(const std::string& base) { return api.call_text("GET", base + "/checkpoint"); }

  std::vector<access::merkle::Hash> proof(const std::string& target) {
    Answer a = api.call("GET", target);
    EXPECT_EQ(a.status, 200) << target << ": " << a.body.dump();
    std::vector<access::merkle::Hash> out;
    for (const auto& h : a.body["hashes"]) out.push_back(*crypto::base64_decode(h.get<std::string>()));
    return out;
  }

  ApiHarness api;
  std::string operator_token, acme_customer, env_id;
  access::note::Verifier key;
};

TEST_F(AuditLogTest, EachChangeIsOneEntryOfItsEnvironmentsLogAndEachRefusalToo) {
  ASSERT_EQ(api.call_json("POST", "/v1/environments/e/services", {{"name", "s"}}).status, 202);
  ASSERT_EQ(api.call("DELETE", "/v1/environments/e", "", "", operator_token).status, 403);
  auto log = entries("/v1/environments/e/audit");
  ASSERT_EQ(log.size(), 3u);  // once each, though the test store runs every transaction twice
  json create = json::parse(log[0]), service = json::parse(log[1]), denied = json::parse(log[2]);
  EXPECT_EQ(create["action"], "environment.create");
  EXPECT_EQ(create["environment"], env_id);
  EXPECT_EQ(create["created_id"], env_id);
  EXPECT_EQ(create["outcome"], "succeeded");
  EXPECT_EQ(create["status"], 202);
  EXPECT_EQ(service["action"], "service.create");
  EXPECT_EQ(service["object"], json({{"env", "e"}}));
  EXPECT_EQ(denied["action"], "environment.delete");
  EXPECT_EQ(denied["outcome"], "denied");
  EXPECT_EQ(denied["actor"]["subject"], "op@vendor.example");
  EXPECT_EQ(denied["environment"], env_id);
  for (const auto& entry : log) EXPECT_EQ(entry.find("password"), std::string::npos) << entry;
}

TEST_F(AuditLogTest, ThePlaneLogHoldsOrganisationsTokensAndWhatNamedNoEnvironment) {
  // A customer of acme addressing default's environment finds nothing there:
  // its attempt is not written into default's log, but into the plane's.
  ASSERT_EQ(api.call("DELETE", "/v1/environments/e", "", "", acme_customer).status, 404);
  auto plane = entries("/v1/audit");
  ASSERT_GE(plane.size(), 4u);
  EXPECT_EQ(json::parse(plane[0])["action"], "organization.create");
  EXPECT_EQ(json::parse(plane[1])["action"], "token.create");
  json last = json::parse(plane.back());
  EXPECT_EQ(last["action"], "environment.delete");
  EXPECT_EQ(last["outcome"], "refused");
  EXPECT_EQ(last["environment"], "");
  EXPECT_EQ(entries("/v1/environments/e/audit").size(), 1u);
  // Anonymous calls name no one: logged by the server, not kept.
  size_t before = plane.size();
  ASSERT_EQ(api.call("POST", "/v1/organizations", R"({"name":"x"})", "application/json", "").status, 401);
  EXPECT_EQ(entries("/v1/audit").size(), before);
}

TEST_F(AuditLogTest, WhatTheRoutesServeVerifiesWithTheKeyAlone) {
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(api.call_json("POST", "/v1/environments/e/services", {{"name", "s" + std::to_string(i)}}).status, 202);
  const std::string base = "/v1/environments/e/audit";
  auto log = entries(base);
  ASSERT_EQ(log.size(), 7u);
  std::string note = raw_checkpoint(base);
  access::Checkpoint c = access::verify_log(log, note, key, access::environment_log_origin(key, env_id));
  EXPECT_EQ(c.size, 7u);
  for (size_t i = 0; i < log.size(); ++i)
    EXPECT_TRUE(access::merkle::verify_inclusion(
        i, 7, access::merkle::leaf_hash(log[i]),
        proof(base + "/proof/inclusion?index=" + std::to_string(i) + "&size=7"), c.root))
        << i;
  // Every earlier size is a prefix, by the server's proofs.
  std::vector<access::merkle::Hash> leaves;
  for (const auto& e : log) leaves.push_back(access::merkle::leaf_hash(e));
  for (uint64_t m = 1; m <= 7; ++m) {
    access::Checkpoint earlier{c.origin, m, access::merkle::root(leaves, m)};
    EXPECT_NO_THROW(access::verify_extends(
        earlier, c, proof(base + "/proof/consistency?first=" + std::to_string(m) + "&second=7")))
        << m;
  }
  // The plane's log verifies too, under its own origin.
  EXPECT_NO_THROW(access::verify_log(entries("/v1/audit"), raw_checkpoint("/v1/audit"), key,
                                     access::plane_log_origin(key)));
}

TEST_F(AuditLogTest, ProofQueriesOutsideTheLogAreRefusedByName) {
  const std::string base = "/v1/environments/e/audit/proof/";
  struct Case {
    std::string query;
    std::string code;
    std::string field;
  };
  for (const auto& c : std::vector<Case>{{"inclusion?index=1&size=1", "out_of_range", "index"},
                                         {"inclusion?index=0&size=2", "out_of_range", "size"},
                                         {"inclusion?index=0", "missing_parameter", "size"},
                                         {"inclusion?index=x&size=1", "invalid_parameter", "index"},
                                         {"inclusion?index=0&size=1&extra=1", "unknown_parameter", "extra"},
                                         {"consistency?first=0&second=1", "out_of_range", "first"},
                                         {"consistency?first=1&second=2", "out_of_range", "second"},
                                         {"consistency?first=2&second=1", "out_of_range", "first"}}) {
    Answer a = api.call("GET", base + c.query);
    EXPECT_EQ(a.status, 400) << c.query;
    EXPECT_EQ(a.body["error"]["code"], c.code) << c.query << ": " << a.body.dump();
    EXPECT_EQ(a.body["error"]["field"], c.field) << c.query;
  }
  Answer page = api.call("GET", "/v1/environments/e/audit?limit=1001");
  EXPECT_EQ(page.status, 400);
  Answer past = api.call("GET", "/v1/environments/e/audit?start=5");
  EXPECT_EQ(past.status, 200);
  EXPECT_TRUE(past.body["items"].empty());
  EXPECT_EQ(past.body["size"], 1);
}

TEST_F(AuditLogTest, AnotherOrganisationsCustomerCannotReadTheLog) {
  EXPECT_EQ(api.call("GET", "/v1/environments/e/audit", "", "", acme_customer).status, 404);
  EXPECT_EQ(api.call("GET", "/v1/environments/e/audit/checkpoint", "", "", acme_customer).status, 404);
  EXPECT_EQ(api.call("GET", "/v1/audit", "", "", acme_customer).status, 403);
}

}  // namespace
}  // namespace byoc::server::test
