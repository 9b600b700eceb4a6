// The agent loop — the same byoc::agent::Agent that `byoc agent` runs, in
// this process — against a real management plane (a `byoc server` process,
// environment cloud `external`), with the in-memory FakeRuntime instead of
// processes: the seam between the loop and a runtime, proven with no child
// of the agent at all. The agent's time is a ManualClock that the test moves
// one supervision round at a time, so whether something happens "before the
// service converged" is decided by the test, not by a race; only the
// server's ~30 s long-poll hold runs in real time, and every wait here is
// shorter than it: an operation that settles proves the agent reported early.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "../server/server_process.h"
#include "../e2e/e2e_support.h"
#include "base/crypto.h"
#include "access/signed_note.h"
#include "access/access_request.h"
#include "agent/agent.h"
#include "agent/join.h"
#include "agent/state_layout.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "external_agent.h"
#include "fake_runtime.h"
#include "testing/postgres.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using test::FakeRuntime;
using namespace std::chrono_literals;

constexpr auto kRound = 1s;  // the agent's supervision period, in its own (manual) time
// Shorter than the server's hold: settling within it needs the agent's early report.
constexpr auto kSettle = std::chrono::milliseconds(20'000);

class AgentOnFakeRuntime : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    identity_ = agent_loop::join_external_agent(server_, "fake", "10.43.0.0/16", state_);
    start_agent();
  }

  void TearDown() override { stop_agent(); }

  // A new agent "process" on the same state dir and runtime disk.
  void start_agent() {
    auto runtime = std::make_unique<FakeRuntime>(disk_);
    runtime_ = runtime.get();
    AgentConfig config;
    config.state_dir = state_;
    config.server_urls = {server_.url()};
    config.scope = EnvironmentScope{true, ""};
    config.supervise_period = kRound;
    config.usage_sample_period = 2 * kRound;
    stop_ = false;
    agent_ = std::make_unique<Agent>(config, load_or_join(state_, server_.url(), ""), std::move(runtime), clock_,
                                     stop_);
    thread_ = std::thread([this] { agent_->run(); });
  }

  void stop_agent() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    agent_.reset();
    runtime_ = nullptr;
  }

  // Moves the agent's time on by one round at a time until `done` holds.
  bool rounds_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = kSettle) {
    return testing::eventually(
        [&] {
          clock_.advance(kRound);
          return done();
        },
        timeout);
  }
  void rounds(int n) {
    for (int i = 0; i < n; ++i) {
      clock_.advance(kRound);
      std::this_thread::sleep_for(20ms);  // let the agent's threads take their turn
    }
  }

  json get(const std::string& path) { return server_.call("GET", path).second; }
  json service() { return get("/v1/environments/fake/services/db"); }
  std::string op_status(const std::string& id) { return get("/v1/operations/" + id).value("status", ""); }
  bool settled(const std::string& id) { return op_status(id) != "running"; }
  std::string call(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto [status, op] = server_.call(method, path, body);
    EXPECT_EQ(status, 202) << op.dump();
    return op.value("id", "");
  }
  std::string patch_allowlist(const json& allowed) {
    return call("PATCH", "/v1/environments/fake/services/db", {{"allowed_ips", allowed}});
  }
  // The management plane knows the agent has applied its newest revision.
  bool applied_current() {
    json env = get("/v1/environments/fake");
    return env.value("applied_revision", -1) == env.value("revision", -2);
  }

  // Creates `db` and waits for the agent to hand it to the runtime.
  std::string create_issued() {
    std::string op = call("POST", "/v1/environments/fake/services", {{"name", "db"}});
    EXPECT_TRUE(rounds_until([&] { return runtime_->has("db"); }));
    return op;
  }
  void create_ready() {
    std::string op = create_issued();
    runtime_->converge("db");
    ASSERT_TRUE(rounds_until([&] { return settled(op); }));
    ASSERT_EQ(op_status(op), "succeeded");
  }

  testing::TempDir scratch_;
  byoc::test::ServerProcess server_{scratch_.path(), proc::pick_free_port()};
  fs::path state_ = scratch_.path() / "agent";
  AgentIdentity identity_;
  // Certificates are checked against the agent's clock: start it at the real time.
  ManualClock clock_{SystemClock().unix_seconds()};
  std::shared_ptr<FakeRuntime::Disk> disk_ = std::make_shared<FakeRuntime::Disk>();
  std::atomic<bool> stop_{false};
  std::unique_ptr<Agent> agent_;
  FakeRuntime* runtime_ = nullptr;  // owned by agent_
  std::thread thread_;
};

TEST_F(AgentOnFakeRuntime, ACreateSucceedsOnlyOnceTheRuntimeReportsReady) {
  std::string op = create_issued();
  EXPECT_EQ(runtime_->status("db")->state, ServiceState::kProvisioning);
  // Reported and applied, but not converged: the operation waits.
  ASSERT_TRUE(rounds_until([&] { return service().value("state", "") == "PROVISIONING" && applied_current(); }))
      << service().dump();
  rounds(5);
  EXPECT_EQ(op_status(op), "running") << "succeeded before the runtime said READY";

  runtime_->converge("db");
  ASSERT_TRUE(rounds_until([&] { return settled(op); })) << "READY was not reported before the hold ended";
  EXPECT_EQ(op_status(op), "succeeded");
  json svc = service();
  EXPECT_EQ(svc["state"], "READY");
  EXPECT_EQ(svc["reason"], "");
  EXPECT_EQ(svc["endpoint"], FakeRuntime::kEndpoint);
  EXPECT_EQ(runtime_->applied().size(), 1u);
}

TEST_F(AgentOnFakeRuntime, AServiceThatFailsFailsItsCreate) {
  std::string op = create_issued();
  runtime_->fail("db");
  ASSERT_TRUE(rounds_until([&] { return settled(op); }));
  json done = get("/v1/operations/" + op);
  EXPECT_EQ(done["status"], "failed");
  EXPECT_EQ(done["error"]["code"], "replica_failed") << done.dump();
}

TEST_F(AgentOnFakeRuntime, APatchReachesTheRuntimeAndSettlesWhenItIsInForce) {
  create_ready();
  std::string op = patch_allowlist({"127.0.0.0/8"});
  ASSERT_TRUE(rounds_until([&] { return runtime_->spec("db").allowed_ips == std::vector<std::string>{"127.0.0.0/8"}; }));
  ASSERT_TRUE(rounds_until([&] { return applied_current(); }));
  rounds(5);
  EXPECT_EQ(op_status(op), "running") << "the new allowlist is not in force yet";
  EXPECT_EQ(service()["state"], "PROVISIONING");

  runtime_->converge("db");
  ASSERT_TRUE(rounds_until([&] { return settled(op); }));
  EXPECT_EQ(op_status(op), "succeeded");
  EXPECT_EQ(service()["state"], "READY");
  EXPECT_EQ(runtime_->applied().size(), 2u);
}

TEST_F(AgentOnFakeRuntime, ARefusedSpecKeepsTheLastGoodConfiguration) {
  create_ready();
  std::string op = patch_allowlist({"0.0.0.0/0"});  // public endpoints are off by default
  ASSERT_TRUE(rounds_until([&] { return settled(op); }));
  json done = get("/v1/operations/" + op);
  EXPECT_EQ(done["status"], "failed");
  EXPECT_EQ(done["error"]["code"], "policy_violation") << done.dump();
  EXPECT_EQ(runtime_->applied().size(), 1u) << "the refused spec never reached the runtime";
  EXPECT_NE(runtime_->spec("db").allowed_ips, std::vector<std::string>{"0.0.0.0/0"});
  json svc = service();
  EXPECT_EQ(svc["state"], "READY") << "the last good configuration keeps serving";
  EXPECT_EQ(svc["reason"], "policy_violation");
}

TEST_F(AgentOnFakeRuntime, ADeleteRemovesTheService) {
  create_ready();
  auto [status, body] = server_.call("DELETE", "/v1/environments/fake/services/db");
  ASSERT_EQ(status, 202) << body.dump();
  std::string op = body.value("id", "");
  ASSERT_TRUE(rounds_until([&] { return settled(op); }));
  EXPECT_EQ(op_status(op), "succeeded");
  EXPECT_EQ(runtime_->removed(), std::vector<std::string>{"db"});
  EXPECT_FALSE(runtime_->has("db"));
  EXPECT_EQ(server_.call("GET", "/v1/environments/fake/services/db").first, 404);
}

TEST_F(AgentOnFakeRuntime, ARestartedAgentResumesFromItsStateDirWithoutTheServer) {
  create_ready();
  std::string op = patch_allowlist({"127.0.0.0/8"});
  ASSERT_TRUE(rounds_until([&] { return runtime_->spec("db").allowed_ips.size() == 1 &&
                                        runtime_->spec("db").allowed_ips[0] == "127.0.0.0/8"; }));
  runtime_->converge("db");
  ASSERT_TRUE(rounds_until([&] { return settled(op); }));

  stop_agent();
  EXPECT_EQ(FakeRuntime(disk_).status("db")->reason, "stopped") << "the agent stops its services on the way out";
  server_.kill9();
  start_agent();
  // From the desired state cached on disk, before any answer from the server.
  ASSERT_TRUE(rounds_until([&] { return !runtime_->applied().empty(); }));
  EXPECT_EQ(runtime_->applied()[0].allowed_ips, std::vector<std::string>{"127.0.0.0/8"});
  runtime_->converge("db");

  server_.start();
  ASSERT_TRUE(rounds_until([&] { return service().value("state", "") == "READY" && applied_current(); }, 60s))
      << service().dump();
  EXPECT_EQ(runtime_->applied().size(), 1u) << "the same revision is not applied again";
}

TEST_F(AgentOnFakeRuntime, UsageOfRunningReplicasReachesTheServerOnce) {
  create_ready();
  rounds(10);  // READY meanwhile: the agent samples its running replica every 2 rounds
  // Usage travels with reports: a change makes one now rather than at the
  // end of the hold.
  std::string op = patch_allowlist({"127.0.0.0/8"});
  ASSERT_TRUE(rounds_until([&] { return runtime_->applied().size() == 2; }));
  runtime_->converge("db");
  ASSERT_TRUE(rounds_until([&] { return settled(op); }));
  json totals, ledger;
  ASSERT_TRUE(rounds_until([&] {
    totals = get("/v1/environments/fake/usage");
    ledger = json::parse(files::read_if_exists(state_ / layout::kUsage).value_or("{}"), nullptr, false);
    return totals.value("intervals", 0) > 0 && ledger.is_object() && ledger.value("totals", json()) == totals;
  })) << totals.dump() << " " << ledger.dump();
  // Allocation × running time on the agent's clock: 1000 millicores and 2048 MiB a second.
  EXPECT_GE(totals["cpu_millis_seconds"].get<int64_t>(), 1000);
  EXPECT_EQ(totals["memory_mib_seconds"].get<int64_t>() * 1000, totals["cpu_millis_seconds"].get<int64_t>() * 2048);
}

// Troubleshooting access on the customer's side: the agent makes the
// support CA, hears of an approved grant in the desired state, issues the
// certificate (for exactly the requested key, from its own CA), and the
// requester collects it; a revoked grant leaves the desired state and its
// certificate is listed for the CRL.
class SupportAccessLoop : public AgentOnFakeRuntime {
 protected:
  void SetUp() override {
    AgentOnFakeRuntime::SetUp();
    operator_ = token("operator", "eng@vendor.example");
    approver_ = token("approver", "lead@vendor.example");
  }
  std::string token(const std::string& role, const std::string& subject) {
    auto [status, t] = server_.call("POST", "/v1/tokens", {{"role", role}, {"subject", subject}});
    EXPECT_EQ(status, 201) << t.dump();
    return t.value("token", "");
  }
  // An access request by the operator for `key`'s CSR.
  std::string ask(const std::string& key) {
    auto [status, r] = server_.call_as(operator_, "POST", "/v1/environments/fake/access-requests",
                                       {{"scope", "clickhouse-system"},
                                        {"reason", "replica lag"},
                                        {"duration_seconds", 3600},
                                        {"csr", crypto::make_csr(key, "engineer")}});
    EXPECT_EQ(status, 201) << r.dump();
    return r.value("id", "");
  }
  json request(const std::string& id) { return get("/v1/access-requests/" + id); }
  std::string state_of(const std::string& id) { return request(id).value("state", ""); }
  // The agent's support-grants.json entry for `id`.
  json decision(const std::string& id) {
    json all = json::parse(files::read_if_exists(state_ / layout::kSupportGrants).value_or("{}"));
    return all.contains(id) ? all[id] : json();
  }

  std::string operator_, approver_;
};

TEST_F(SupportAccessLoop, AnApprovedGrantIsIssuedInsideTheEnvironmentAndCollectedByTheRequester) {
  std::string key = crypto::generate_key_pem();
  std::string id = ask(key);
  auto certificate = [&] { return server_.call_as(operator_, "GET", "/v1/access-requests/" + id + "/certificate"); };
  EXPECT_EQ(certificate().first, 409);
  auto [reviewed, r] = server_.call_as(approver_, "POST", "/v1/access-requests/" + id + "/reviews",
                                       {{"decision", "approve"}, {"reason", "INC-7"}});
  ASSERT_EQ(reviewed, 200) << r.dump();
  ASSERT_TRUE(rounds_until([&] { return state_of(id) == "ACTIVE"; })) << request(id).dump();

  auto [status, issued] = certificate();
  ASSERT_EQ(status, 200) << issued.dump();
  std::string cert = issued["certificate"], ca = issued["support_ca"];
  EXPECT_EQ(ca, files::read(state_ / layout::kSupportCa));
  EXPECT_EQ(issued["ca"], get("/v1/environments/fake")["ca_pem"]) << "what the gateways' certificates chain to";
  EXPECT_EQ(issued["gateway"], "") << "no service, no gateway";
  EXPECT_EQ(get("/v1/environments/fake")["agent_access"]["reported"], true);
  EXPECT_EQ(e2e::file_mode(state_ / layout::kSupportCaKey), 0600u);
  EXPECT_TRUE(crypto::certificate_matches_key(cert, key));
  EXPECT_TRUE(crypto::verify_issued_by(cert, ca, std::chrono::system_clock::now()));
  crypto::CertificateInfo info = crypto::inspect(cert);
  json env = get("/v1/environments/fake");
  EXPECT_EQ(info.common_name, "eng@vendor.example");
  EXPECT_EQ(info.organization, env["id"]);
  EXPECT_EQ(info.organizational_unit, id);
  EXPECT_EQ(format_rfc3339(info.not_after_unix), request(id)["not_after"]);
  EXPECT_EQ(request(id)["certificate_serial"], info.serial_hex);

  // Revoked: the grant leaves the desired state; the agent lists its certificate for the CRL.
  auto [revoked, ended] = server_.call_as(approver_, "POST", "/v1/access-requests/" + id + "/revoke", json::object());
  ASSERT_EQ(revoked, 200) << ended.dump();
  ASSERT_TRUE(rounds_until([&] { return decision(id).value("desired", true) == false; })) << decision(id).dump();
  EXPECT_EQ(certificate().first, 410);
}

// A customer that requires its own approval: the agent reports it, so the
// request waits for it; an approval signed by a key the customer's
// policy.json does not list gets past the plane (which can't tell) and is
// refused inside the environment.
TEST_F(SupportAccessLoop, ACustomerApprovalByAKeyTheCustomerDoesNotListIsRefusedByTheAgent) {
  auto customer_key = access::note::make_signer("ops", crypto::random_bytes(32));
  auto stranger_key = access::note::make_signer("ops", crypto::random_bytes(32));
  files::write_atomic(state_ / layout::kPolicy,
                      json{{"require_customer_approval", true},
                           {"customer_approver_keys", {access::note::format_verifier(access::note::verifier_of(customer_key))}}}
                          .dump(),
                      0600);
  stop_agent();
  start_agent();  // it reports the policy with its first sync
  ASSERT_TRUE(rounds_until([&] { return get("/v1/environments/fake")["agent_access"]["customer_approval_required"] == true; }));
  auto [made, customer] = server_.call("POST", "/v1/tokens", {{"role", "customer"}, {"subject", "ops@customer.example"}});
  ASSERT_EQ(made, 201);
  std::string id = ask(crypto::generate_key_pem());
  EXPECT_EQ(request(id)["required"]["customer"], true);
  ASSERT_EQ(server_.call_as(approver_, "POST", "/v1/access-requests/" + id + "/reviews",
                            {{"decision", "approve"}, {"reason", "INC-8"}}).first, 200);
  EXPECT_EQ(state_of(id), "PENDING");
  model::AccessRequest named;
  json r = request(id);
  named.id = id;
  named.environment_id = r["environment_id"];
  named.scope = r["scope"];
  named.requester = r["requester"];
  named.duration_seconds = r["duration_seconds"];
  named.expires_at = *parse_rfc3339(r["expires_at"].get<std::string>());
  named.csr_public_key_sha256 = r["csr_public_key_sha256"];
  auto [approved, body] = server_.call_as(customer["token"], "POST", "/v1/access-requests/" + id + "/reviews",
                                          {{"decision", "approve"},
                                           {"reason", "ok"},
                                           {"customer_approval", access::note::sign(access::approval_text(named), {stranger_key})}});
  ASSERT_EQ(approved, 200) << body.dump();
  ASSERT_TRUE(rounds_until([&] { return state_of(id) == "REFUSED"; })) << request(id).dump();
  EXPECT_EQ(request(id)["refusal"], "customer_approval_invalid");
  EXPECT_EQ(decision(id)["state"], "refused");
  auto [status, gone] = server_.call_as(operator_, "GET", "/v1/access-requests/" + id + "/certificate");
  EXPECT_EQ(status, 410);
  EXPECT_NE(gone["error"]["message"].get<std::string>().find("customer_approval_invalid"), std::string::npos);
}

// The plane's operator rewrites the environment's audit log in the database
// while the server is down; the server, started again, signs what it finds.
// The agent, holding the checkpoint it accepted before, sees the fork with
// the next desired state, says so, refuses new grants and keeps serving.
TEST_F(SupportAccessLoop, AForkedAuditLogIsCaughtByTheAgentWhichThenRefusesNewGrants) {
  ASSERT_TRUE(rounds_until([&] { return fs::exists(state_ / layout::kAuditCheckpoints); }));
  json kept = json::parse(files::read(state_ / layout::kAuditCheckpoints));
  ASSERT_FALSE(kept["checkpoints"].empty());
  EXPECT_EQ(kept["problem"], "");
  std::string env_id = get("/v1/environments/fake")["id"];
  stop_agent();
  server_.stop();
  std::string where = " WHERE key = 'audit/environment/" + env_id + "' AND idx = 0";
  if (server_.store_arg().empty()) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((server_.data_dir() / "byoc.db").c_str(), &db), SQLITE_OK);
    std::string sql = "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'environment.create', "
                      "'environment.delete') AS BLOB)" + where;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  } else {
    testing::postgres_exec(server_.store_arg(),
                           "UPDATE log_entries SET entry = convert_to(replace(convert_from(entry, 'UTF8'), "
                           "'environment.create', 'environment.delete'), 'UTF8')" + where);
  }
  server_.start();
  start_agent();
  std::string id = ask(crypto::generate_key_pem());
  ASSERT_EQ(server_.call_as(approver_, "POST", "/v1/access-requests/" + id + "/reviews",
                            {{"decision", "approve"}, {"reason", "INC-9"}}).first, 200);
  ASSERT_TRUE(rounds_until([&] { return state_of(id) == "REFUSED"; })) << request(id).dump();
  EXPECT_EQ(request(id)["refusal"], "audit_inconsistent");
  EXPECT_EQ(json::parse(files::read(state_ / layout::kAuditCheckpoints))["problem"], "forked");
  json env = get("/v1/environments/fake");
  bool flagged = false;
  for (const auto& c : env["conditions"])
    flagged = flagged || (c["type"] == "audit_consistent" && c["status"] == false && c["reason"] == "audit_inconsistent");
  EXPECT_TRUE(flagged) << env.dump();
}

// The gateways' side: the runtime is told what to enforce before anything
// is applied, each service shows its gateway, and the refusals the agent's
// check counts go into the environment's audit log — each once, also when
// the agent restarts with them reported.
TEST_F(SupportAccessLoop, GatewayRefusalsAreAuditedOnceByReasonAndSerial) {
  // The agent's thread hands it over as it starts: before its first apply.
  ASSERT_TRUE(rounds_until([&] { return runtime_->gateway().enabled; }));
  SupportGateway gateway = runtime_->gateway();
  EXPECT_EQ(gateway.ca_pem, files::read(state_ / layout::kSupportCa));
  EXPECT_NE(gateway.crl_pem.find("BEGIN X509 CRL"), std::string::npos);
  create_ready();
  ASSERT_TRUE(rounds_until([&] { return service().value("support_gateway", "") == FakeRuntime::kSupportGateway; }))
      << service().dump();

  auto ask_check = [&](const std::string& path, const std::string& verify, const std::string& serial) {
    http::Client client(http::TlsOptions{.insecure_skip_verify = true});
    http::Request r;
    r.url = "http://" + gateway.check_address + path;
    r.headers = {{"X-Byoc-Check-Key", gateway.check_key}, {"X-Byoc-Service", "db"}, {"X-Byoc-Verify", verify},
                 {"X-Byoc-Serial", serial},                {"X-Byoc-Uri", "/"},   {"X-Byoc-Credentials", "0"}};
    return client.send(r).status;
  };
  // Refusals naming nobody wait for a regular sync; one naming a certificate
  // is reported at once, and takes the others along.
  EXPECT_EQ(ask_check("/refused", "NONE", ""), 403);
  EXPECT_EQ(ask_check("/check", "SUCCESS", "0ABC"), 403);
  EXPECT_EQ(ask_check("/check", "SUCCESS", "ABC"), 403);
  auto denials = [&] {
    std::map<std::string, int64_t> out;  // reason/serial → count
    json page = get("/v1/environments/fake/audit?limit=1000");
    for (const auto& item : page["items"])
      if (item["entry"].value("type", "") == "gateway_denial")
        out[item["entry"].value("reason_code", "") + "/" + item["entry"].value("serial", "")] +=
            item["entry"].value("count", int64_t{0});
    return out;
  };
  const std::map<std::string, int64_t> expected = {{"grant_inactive/abc", 2}, {"no_certificate/", 1}};
  ASSERT_TRUE(rounds_until([&] { return denials() == expected; })) << json(denials()).dump();
  stop_agent();
  start_agent();
  rounds(5);
  EXPECT_EQ(denials(), expected) << "reported once, whatever the restarts";

  // The requester is told where the gateways are.
  std::string id = ask(crypto::generate_key_pem());
  ASSERT_EQ(server_.call_as(approver_, "POST", "/v1/access-requests/" + id + "/reviews",
                            {{"decision", "approve"}, {"reason", "INC-8"}}).first, 200);
  ASSERT_TRUE(rounds_until([&] { return state_of(id) == "ACTIVE"; })) << request(id).dump();
  json issued = server_.call_as(operator_, "GET", "/v1/access-requests/" + id + "/certificate").second;
  EXPECT_EQ(issued["gateway"], FakeRuntime::kSupportGateway);
  ASSERT_EQ(issued["gateways"].size(), 1u) << issued.dump();
  EXPECT_EQ(issued["gateways"][0]["service"], "db");
  EXPECT_EQ(issued["gateways"][0]["gateway"], "https://127.0.0.1:4444");
  // The service's state as the plane has it (PROVISIONING until the agent
  // reports the revision the grant made applied).
  EXPECT_TRUE(issued["gateways"][0]["state"].is_string());
}

}  // namespace
}  // namespace byoc::agent
