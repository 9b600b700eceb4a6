// Access requests through the real routes on both stores: who may ask,
// review, revoke and finish; the rules of reviews (never one's own, one
// reviewer once, a denial ends it, the customer's signed approval when the
// environment's customer requires it); expiry on the injected clock by the
// access controller; the certificate answer by state; the vendor's policy;
// and every step as an event in the environment's audit log, with a new
// revision whenever a grant enters or leaves the desired state.
#include <gtest/gtest.h>

#include <map>

#include "access/access_request.h"
#include "access/signed_note.h"
#include "api_harness.h"
#include "base/crypto.h"
#include "controllers/access_controller.h"
#include "model/protocol.h"

namespace byoc::server::test {
namespace {
using nlohmann::json;

class AccessRequestsTest : public ::testing::Test {
 protected:
  AccessRequestsTest() {
    EXPECT_EQ(api.call_json("POST", "/v1/organizations", {{"name", "acme"}}).status, 201);
    oper = token("operator", "default", "oncall@vendor.example");
    oper2 = token("operator", "default", "second@vendor.example");
    same_subject_approver = token("approver", "default", "oncall@vendor.example");
    appr = token("approver", "default", "lead@vendor.example");
    appr_again = token("approver", "default", "lead@vendor.example");
    appr2 = token("approver", "default", "head@vendor.example");
    cust = token("customer", "default", "ops@customer.example");
    acme = token("customer", "acme", "ops@acme.example");
    EXPECT_EQ(api.call_json("POST", "/v1/environments", {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}})
                  .status,
              202);
    env_id = api.call("GET", "/v1/environments/e").body["id"];
  }

  std::string token(const std::string& role, const std::string& org, const std::string& subject) {
    Answer t = api.call_json("POST", "/v1/tokens", {{"role", role}, {"organization", org}, {"subject", subject}});
    EXPECT_EQ(t.status, 201);
    return t.body["token"];
  }

  static json request_body(int64_t duration = 3600) {
    return {{"scope", "clickhouse-system"},
            {"reason", "replica 2 is read-only since 03:10"},
            {"duration_seconds", duration},
            {"csr", crypto::make_csr(crypto::generate_key_pem(), "engineer")}};
  }

  Answer ask(const json& body = request_body(), const std::string& as = "") {
    return api.call("POST", "/v1/environments/e/access-requests", body.dump(), "application/json",
                    as.empty() ? oper : as);
  }
  Answer review(const std::string& id, const std::string& as, const std::string& decision = "approve",
                json extra = json::object()) {
    json body = {{"decision", decision}, {"reason", "looked at the ticket"}};
    body.update(extra);
    return api.call("POST", "/v1/access-requests/" + id + "/reviews", body.dump(), "application/json", as);
  }
  Answer post(const std::string& id, const std::string& what, const std::string& as) {
    return api.call("POST", "/v1/access-requests/" + id + "/" + what, "{}", "application/json", as);
  }
  json get(const std::string& id) { return api.call("GET", "/v1/access-requests/" + id).body; }
  int64_t revision() { return api.call("GET", "/v1/environments/e").body["revision"]; }
  // The events of the environment's audit log, in order ("type":"access" entries).
  std::vector<std::string> events(const std::string& id) {
    std::vector<std::string> out;
    Answer page = api.call("GET", "/v1/environments/e/audit?limit=1000");
    for (const auto& item : page.body["items"])
      if (item["entry"].value("type", "") == "access" && item["entry"].value("request", "") == id)
        out.push_back(item["entry"]["event"]);
    return out;
  }
  void set_agent_access(const std::function<void(model::AgentAccessPolicy&)>& change) {
    api.store->transact([&](store::Transaction& tx) {
      auto env = tx.environments().by_id(env_id);
      change(env->agent_access);
      env->agent_access.reported = true;
      tx.environments().put(*env);
    });
  }
  // A sync report of the environment's agent, answered at once (known revision 0).
  Answer sync(model::SyncRequest report) {
    api.store->transact([&](store::Transaction& tx) {
      if (!tx.agents().by_environment(env_id)) tx.agents().put({env_id, "0a1b", 0});
    });
    HttpRequest req;
    req.method = "POST";
    req.path = "/v1/agent/sync";
    req.headers["content-type"] = "application/json";
    req.peer = PeerCertificate{"agent:" + env_id, "0a1b"};
    req.body = model::to_json(report).dump();
    return api.send(std::move(req));
  }
  // The audit log's entries of one type.
  std::vector<json> entries(const std::string& type) {
    std::vector<json> out;
    Answer page = api.call("GET", "/v1/environments/e/audit?limit=1000");
    for (const auto& item : page.body["items"])
      if (item["entry"].value("type", "") == type) out.push_back(item["entry"]);
    return out;
  }
  controllers::ReconcileResult expire(const std::string& id) {
    controllers::AccessController controller(*api.store, api.clock, api.audit_logs());
    return controller.reconcile(id);
  }

  ApiHarness api;
  std::string oper, oper2, same_subject_approver, appr, appr_again, appr2, cust, acme, env_id;
};

TEST_F(AccessRequestsTest, ARequestWaitsForReviewNamingItsKeyAndIsWatchedForExpiry) {
  json body = request_body();
  Answer a = ask(body);
  ASSERT_EQ(a.status, 201) << a.body.dump();
  const json& r = a.body;
  EXPECT_EQ(r["state"], "PENDING");
  EXPECT_EQ(r["environment"], "e");
  EXPECT_EQ(r["requester"], "oncall@vendor.example");
  EXPECT_EQ(r["required"], json({{"approvals", 1}, {"customer", false}}));
  EXPECT_EQ(r["csr_public_key_sha256"], crypto::csr_public_key_sha256_hex(body["csr"].get<std::string>()));
  EXPECT_EQ(r["expires_at"], format_rfc3339(api.clock.unix_seconds() + 3600));
  EXPECT_EQ(r["not_after"], nullptr);
  EXPECT_EQ(std::count(api.enqueued.begin(), api.enqueued.end(), "access/" + r["id"].get<std::string>()), 1);
  EXPECT_EQ(events(r["id"]), std::vector<std::string>{"requested"});
  Answer certificate = api.call("GET", "/v1/access-requests/" + r["id"].get<std::string>() + "/certificate", "", "",
                                oper);
  EXPECT_EQ(certificate.status, 409);
  EXPECT_EQ(certificate.body["error"]["code"], "not_issued");
}

TEST_F(AccessRequestsTest, BadRequestsAreRefusedByFieldAndChangeNothing) {
  auto refused = [&](json body, int status, const std::string& field) {
    Answer a = ask(body);
    EXPECT_EQ(a.status, status) << body.dump() << " → " << a.body.dump();
    EXPECT_EQ(a.body["error"]["field"], field) << a.body.dump();
  };
  json b = request_body();
  b["scope"] = "root";
  refused(b, 422, "scope");
  refused(request_body(8 * 3600 + 1), 422, "duration_seconds");
  refused(request_body(59), 422, "duration_seconds");
  b = request_body();
  b["csr"] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  refused(b, 422, "csr");
  b = request_body();
  b["reason"] = "";
  refused(b, 422, "reason");
  b = request_body();
  b["reason"] = "line\nbreak";
  refused(b, 422, "reason");
  b = request_body();
  b["extra"] = 1;
  refused(b, 422, "extra");
  b = request_body();
  b.erase("duration_seconds");
  refused(b, 422, "duration_seconds");
  std::string key = crypto::generate_key_pem();
  b = request_body();
  b["csr"] = key + crypto::make_csr(key, "engineer");  // a key pasted with its request
  refused(b, 422, "csr");
  EXPECT_TRUE(api.call("GET", "/v1/environments/e/access-requests").body["items"].empty());
}

// What agents get is one canonical PEM block, whatever header or text around
// it OpenSSL tolerated on the way in.
TEST_F(AccessRequestsTest, TheCsrIsKeptInItsCanonicalForm) {
  std::string csr = crypto::make_csr(crypto::generate_key_pem(), "engineer");
  std::string loose = "made with keytool\n" + csr;
  for (const char* from : {"BEGIN CERTIFICATE REQUEST", "END CERTIFICATE REQUEST"}) {
    std::string to = std::string(from).insert(std::string(from).find(' ') + 1, "NEW ");
    loose.replace(loose.find(from), std::string(from).size(), to);
  }
  json body = request_body();
  body["csr"] = loose;
  Answer a = ask(body);
  ASSERT_EQ(a.status, 201) << a.body.dump();
  api.store->read([&](store::Transaction& tx) {
    EXPECT_EQ(tx.access_requests().by_id(a.body["id"])->csr_pem, csr);
  });
}

TEST_F(AccessRequestsTest, NobodyReviewsTheirOwnRequestAndEachReviewerCountsOnce) {
  ASSERT_EQ(api.call_json("PATCH", "/v1/environments/e", {{"access_policy", {{"approvals", 2}}}}).status, 200);
  std::string id = ask().body["id"];
  EXPECT_EQ(get(id)["required"]["approvals"], 2);
  Answer own = review(id, same_subject_approver);
  EXPECT_EQ(own.status, 403) << own.body.dump();
  EXPECT_EQ(review(id, oper).status, 403);  // an operator is no reviewer at all
  EXPECT_EQ(review(id, appr).status, 200);
  EXPECT_EQ(get(id)["state"], "PENDING");
  int64_t before = revision();
  Answer twice = review(id, appr_again);  // the same person through another token
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(twice.body["error"]["code"], "already_reviewed");
  // The customer's approval is recorded but the vendor's two are the requirement.
  EXPECT_EQ(review(id, cust).status, 200);
  EXPECT_EQ(get(id)["state"], "PENDING");
  Answer second = review(id, appr2);
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.body["state"], "APPROVED");
  EXPECT_EQ(second.body["not_after"], format_rfc3339(api.clock.unix_seconds() + 3600));
  EXPECT_EQ(second.body["reviews"].size(), 3u);
  EXPECT_EQ(revision(), before + 1) << "an approved grant is news for the agent";
  EXPECT_EQ(review(id, appr2).body["error"]["code"], "not_pending");
  EXPECT_EQ(events(id), (std::vector<std::string>{"requested", "reviewed", "reviewed", "reviewed", "approved"}));
}

TEST_F(AccessRequestsTest, ADenialByAnyoneEntitledEndsIt) {
  std::string by_vendor = ask().body["id"];
  Answer denied = review(by_vendor, appr, "deny");
  EXPECT_EQ(denied.body["state"], "DENIED");
  EXPECT_EQ(review(by_vendor, appr2).status, 409);
  std::string by_customer = ask().body["id"];
  EXPECT_EQ(review(by_customer, cust, "deny").body["state"], "DENIED");
  Answer gone = api.call("GET", "/v1/access-requests/" + by_customer + "/certificate", "", "", oper);
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(events(by_customer), (std::vector<std::string>{"requested", "reviewed", "denied"}));
}

TEST_F(AccessRequestsTest, AnotherOrganisationsCustomerFindsNothing) {
  std::string id = ask().body["id"];
  EXPECT_EQ(api.call("GET", "/v1/access-requests/" + id, "", "", acme).status, 404);
  EXPECT_EQ(review(id, acme).status, 404);
  EXPECT_EQ(post(id, "revoke", acme).status, 404);
  EXPECT_EQ(get(id)["state"], "PENDING");
}

TEST_F(AccessRequestsTest, WhenTheCustomerRequiresItTheirSignedApprovalOfExactlyThisGrantIsNeeded) {
  set_agent_access([](model::AgentAccessPolicy& p) { p.customer_approval_required = true; });
  Answer created = ask();
  std::string id = created.body["id"];
  EXPECT_EQ(created.body["required"]["customer"], true);
  EXPECT_EQ(review(id, appr).status, 200);
  EXPECT_EQ(get(id)["state"], "PENDING") << "waits for the customer instead of being refused later";
  EXPECT_EQ(review(id, cust).body["error"]["code"], "customer_approval_missing");
  auto signer = access::note::make_signer("ops-customer", crypto::random_bytes(32));
  model::AccessRequest grant;
  api.store->read([&](store::Transaction& tx) { grant = *tx.access_requests().by_id(id); });
  model::AccessRequest other = grant;
  other.duration_seconds = 8 * 3600;
  Answer mismatch = review(id, cust, "approve", {{"customer_approval", access::note::sign(access::approval_text(other), {signer})}});
  EXPECT_EQ(mismatch.body["error"]["code"], "customer_approval_mismatch");
  std::string note = access::note::sign(access::approval_text(grant), {signer});
  EXPECT_EQ(review(id, appr2, "approve", {{"customer_approval", note}}).body["error"]["code"], "not_a_customer");
  Answer approved = review(id, cust, "approve", {{"customer_approval", note}});
  ASSERT_EQ(approved.status, 200) << approved.body.dump();
  EXPECT_EQ(approved.body["state"], "APPROVED");
  EXPECT_EQ(approved.body["customer_approval"], true);
  api.store->read([&](store::Transaction& tx) { EXPECT_EQ(tx.access_requests().by_id(id)->customer_approval, note); });
}

TEST_F(AccessRequestsTest, TheCustomersOwnLimitsComeFirst) {
  set_agent_access([](model::AgentAccessPolicy& p) { p.max_grant_seconds = 1800; });
  EXPECT_EQ(ask(request_body(3600)).body["error"]["code"], "duration_too_long");
  EXPECT_EQ(ask(request_body(1800)).status, 201);
  set_agent_access([](model::AgentAccessPolicy& p) { p.support_access = false; });
  EXPECT_EQ(ask(request_body(1800)).body["error"]["code"], "support_access_off");
}

TEST_F(AccessRequestsTest, AKubernetesReadonlyRequestIsTakenWhereTheAgentGrantsIt) {
  json body = request_body();
  body["scope"] = "kubernetes-readonly";
  Answer created = ask(body);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["scope"], "kubernetes-readonly");
  body["scope"] = "kubernetes-admin";
  Answer unknown = ask(body);
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.body["error"]["code"], "unknown_scope");
  EXPECT_EQ(unknown.body["error"]["message"], "scope must be clickhouse-system or kubernetes-readonly");
  // An agent that grants clickhouse-system alone (the local runtime, or a
  // customer who did not list the scope): refused at once, not approved in vain.
  set_agent_access([](model::AgentAccessPolicy& p) { p.scopes = {"clickhouse-system"}; });
  body["scope"] = "kubernetes-readonly";
  Answer refused = ask(body);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.body["error"]["code"], "scope_not_allowed");
  EXPECT_EQ(refused.body["error"]["field"], "scope");
  EXPECT_EQ(ask(request_body()).status, 201);
  // What the agent reports decides.
  model::SyncRequest report;
  report.status.access = model::ReportedAccessPolicy{true, false, 8 * 3600,
                                                     std::vector<std::string>{"kubernetes-readonly"}};
  ASSERT_EQ(sync(report).status, 200);
  EXPECT_EQ(ask(body).status, 201);
  EXPECT_EQ(ask(request_body()).body["error"]["code"], "scope_not_allowed");
  EXPECT_EQ(api.call("GET", "/v1/environments/e").body["agent_access"]["scopes"], json({"kubernetes-readonly"}));
  // An agent of protocol 4 reports no scopes: it grants clickhouse-system alone.
  report.protocol_version = model::kGatewayProtocolVersion;
  ASSERT_EQ(sync(report).status, 200);
  EXPECT_EQ(ask(body).body["error"]["code"], "scope_not_allowed");
}

// An agent that predates the scope would refuse a whole desired state naming
// it: it never hears of such a grant, which waits for an upgraded agent.
TEST_F(AccessRequestsTest, OnlyAnAgentOfProtocol5HearsOfKubernetesGrants) {
  json body = request_body();
  body["scope"] = "kubernetes-readonly";
  std::string k8s = ask(body).body["id"];
  std::string ch = ask().body["id"];
  ASSERT_EQ(review(k8s, appr).body["state"], "APPROVED");
  ASSERT_EQ(review(ch, appr).body["state"], "APPROVED");
  auto grants = [&](int protocol) {
    model::SyncRequest report;
    report.protocol_version = protocol;
    Answer a = sync(report);
    EXPECT_EQ(a.status, 200) << a.body.dump();
    std::map<std::string, std::string> out;  // id → scope
    for (const auto& g : a.body["desired"].value("grants", json::array())) out[g["request_id"]] = g["scope"];
    return out;
  };
  EXPECT_EQ(grants(model::kGatewayProtocolVersion), (std::map<std::string, std::string>{{ch, "clickhouse-system"}}));
  EXPECT_EQ(grants(model::kKubernetesAccessProtocolVersion),
            (std::map<std::string, std::string>{{ch, "clickhouse-system"}, {k8s, "kubernetes-readonly"}}));
}

// A service's profile rides the desired state to an agent of protocol 5 (a
// Kubernetes runtime selects its node group with it), never to an older one.
TEST_F(AccessRequestsTest, AServicesProfileReachesOnlyAnAgentOfProtocol5) {
  api.store->transact([&](store::Transaction& tx) {
    model::Service svc;
    svc.id = "svc-0123456789abcdef";
    svc.environment_id = env_id;
    svc.name = "orders";
    svc.profile = "m7gd.large";
    svc.password_sha256_hex = std::string(64, 'a');
    tx.services().put(svc);
  });
  auto profile = [&](int protocol) {
    model::SyncRequest report;
    report.protocol_version = protocol;
    Answer a = sync(report);
    EXPECT_EQ(a.status, 200) << a.body.dump();
    const json services = a.body["desired"]["services"];
    EXPECT_EQ(services.size(), 1u) << a.body.dump();
    return services.empty() ? json() : services[0].value("profile", json());
  };
  EXPECT_EQ(profile(model::kGatewayProtocolVersion), json());
  EXPECT_EQ(profile(model::kKubernetesAccessProtocolVersion), "m7gd.large");
}

// Every Kubernetes request the agent reports goes into the environment's
// audit log once, however often the report is retried, and is acknowledged.
TEST_F(AccessRequestsTest, ReportedKubernetesRequestsAreAuditedOnceAndAcknowledged) {
  model::KubeRequest allowed;
  allowed.seq = 1800000000000;
  allowed.request_id = "acc-0123456789abcdef";
  allowed.serial = "a1b2";
  allowed.verb = "list";
  allowed.resource = "pods";
  allowed.namespace_name = "byoc-services";
  allowed.decision = "allowed";
  allowed.status = 200;
  allowed.count = 4;
  allowed.first = 1800000000;
  allowed.last = 1800000030;
  model::KubeRequest refused = allowed;
  refused.seq = allowed.seq + 1;
  refused.verb = "create";
  refused.subresource = "exec";
  refused.name = "ch-db-0-0";
  refused.decision = "exec_refused";
  refused.status = 403;
  refused.count = 1;
  model::SyncRequest report;
  report.kube_requests = {refused, allowed};  // out of order: appended by seq
  Answer answer = sync(report);
  ASSERT_EQ(answer.status, 200) << answer.body.dump();
  EXPECT_EQ(answer.body["kube_requests_acked_seq"], refused.seq);
  ASSERT_EQ(sync(report).status, 200);  // the same report again
  auto logged = entries("kube_request");
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0]["verb"], "list");
  EXPECT_EQ(logged[0]["count"], 4);
  EXPECT_EQ(logged[0]["seq"], allowed.seq);
  EXPECT_EQ(logged[1]["request"], "acc-0123456789abcdef");
  EXPECT_EQ(logged[1]["serial"], "a1b2");
  EXPECT_EQ(logged[1]["resource"], "pods");
  EXPECT_EQ(logged[1]["subresource"], "exec");
  EXPECT_EQ(logged[1]["namespace"], "byoc-services");
  EXPECT_EQ(logged[1]["name"], "ch-db-0-0");
  EXPECT_EQ(logged[1]["decision"], "exec_refused");
  EXPECT_EQ(logged[1]["status"], 403);
  EXPECT_EQ(logged[1]["environment"], env_id);
  // An agent of protocol 4 hears no acknowledgement it would refuse.
  report.protocol_version = model::kGatewayProtocolVersion;
  report.kube_requests.clear();
  EXPECT_FALSE(sync(report).body.contains("kube_requests_acked_seq"));
}

TEST_F(AccessRequestsTest, UndecidedRequestsAndEndedGrantsExpireOnTheInjectedClock) {
  std::string pending = ask().body["id"];
  std::string granted = ask().body["id"];
  ASSERT_EQ(review(granted, appr).body["state"], "APPROVED");
  auto first = expire(pending);
  ASSERT_TRUE(first.requeue_after);
  EXPECT_EQ(*first.requeue_after, std::chrono::seconds(3601));
  EXPECT_EQ(get(pending)["state"], "PENDING");
  api.clock.set_unix_seconds(api.clock.unix_seconds() + 3600);
  int64_t before = revision();
  EXPECT_FALSE(expire(pending).requeue_after);
  EXPECT_EQ(get(pending)["state"], "EXPIRED");
  EXPECT_EQ(review(pending, appr).body["error"]["code"], "not_pending");
  EXPECT_FALSE(expire(granted).requeue_after);
  EXPECT_EQ(get(granted)["state"], "EXPIRED");
  EXPECT_EQ(revision(), before + 1) << "only the ended grant is news for the agent";
  EXPECT_EQ(events(pending), (std::vector<std::string>{"requested", "expired"}));
  EXPECT_FALSE(expire(granted).requeue_after);  // again: nothing changes twice
  EXPECT_EQ(events(granted), (std::vector<std::string>{"requested", "reviewed", "approved", "expired"}));
}

TEST_F(AccessRequestsTest, RevokeAndDoneEndItForGoodAndOnlyTheRequesterFinishes) {
  std::string id = ask().body["id"];
  ASSERT_EQ(review(id, appr).status, 200);
  EXPECT_EQ(post(id, "done", oper2).status, 403);
  int64_t before = revision();
  Answer revoked = post(id, "revoke", cust);
  ASSERT_EQ(revoked.status, 200);
  EXPECT_EQ(revoked.body["state"], "REVOKED");
  EXPECT_EQ(revoked.body["ended_by"], "ops@customer.example");
  EXPECT_EQ(revision(), before + 1);
  EXPECT_EQ(post(id, "revoke", appr).body["error"]["code"], "already_final");
  EXPECT_EQ(post(id, "done", oper).status, 409);
  std::string other = ask().body["id"];
  EXPECT_EQ(post(other, "done", oper).body["state"], "DONE");
  EXPECT_EQ(events(id), (std::vector<std::string>{"requested", "reviewed", "approved", "revoked"}));
}

TEST_F(AccessRequestsTest, AdminsAloneSetThePolicyAndTheLogSaysSo) {
  json policy = {{"access_policy", {{"approvals", 3}, {"max_duration_seconds", 7200}, {"pending_ttl_seconds", 600}}}};
  EXPECT_EQ(api.call("PATCH", "/v1/environments/e", policy.dump(), "application/json", cust).status, 403);
  Answer bad = api.call_json("PATCH", "/v1/environments/e", {{"access_policy", {{"approvals", 4}}}});
  EXPECT_EQ(bad.status, 422);
  Answer set = api.call_json("PATCH", "/v1/environments/e", policy);
  ASSERT_EQ(set.status, 200) << set.body.dump();
  EXPECT_EQ(set.body["access_policy"], policy["access_policy"]);
  EXPECT_EQ(ask(request_body(7201)).body["error"]["code"], "duration_too_long");
  Answer r = ask(request_body(7200));
  EXPECT_EQ(r.body["expires_at"], format_rfc3339(api.clock.unix_seconds() + 600));
  bool logged = false;
  json log = api.call("GET", "/v1/environments/e/audit").body["items"];
  for (const auto& item : log)
    logged = logged || (item["entry"].value("type", "") == "policy" && item["entry"]["value"] == policy["access_policy"]);
  EXPECT_TRUE(logged) << log.dump();
}

TEST_F(AccessRequestsTest, ListsFilterByStateRequesterAndTime) {
  std::string a = ask().body["id"];
  api.clock.set_unix_seconds(api.clock.unix_seconds() + 100);
  std::string b = ask(request_body(), oper2).body["id"];
  ASSERT_EQ(review(b, appr).status, 200);
  auto ids = [&](const std::string& query) {
    std::vector<std::string> out;
    Answer list = api.call("GET", "/v1/environments/e/access-requests" + query);
    EXPECT_EQ(list.status, 200) << query << ": " << list.body.dump();
    for (const auto& item : list.body["items"]) out.push_back(item["id"]);
    return out;
  };
  EXPECT_EQ(ids(""), (std::vector<std::string>{a, b}));
  EXPECT_EQ(ids("?state=APPROVED"), std::vector<std::string>{b});
  EXPECT_EQ(ids("?requester=oncall@vendor.example"), std::vector<std::string>{a});
  EXPECT_EQ(ids("?since=" + format_rfc3339(api.clock.unix_seconds())), std::vector<std::string>{b});
  EXPECT_EQ(ids("?until=" + format_rfc3339(api.clock.unix_seconds())), std::vector<std::string>{a});
  EXPECT_EQ(api.call("GET", "/v1/environments/e/access-requests?state=open").status, 400);
  EXPECT_EQ(api.call("GET", "/v1/environments/e/access-requests?since=yesterday").status, 400);
  EXPECT_EQ(api.call("GET", "/v1/environments/e/access-requests?color=red").status, 400);
}

}  // namespace
}  // namespace byoc::server::test
