// Troubleshooting access through a service's support gateway, end to end on
// the real binaries: `byoc server`, its local environment's agent, nginx,
// ClickHouse 18.16 and OpenSSL. An approved grant reads the system tables
// (its queries logged under the certificate's serial) and nothing else;
// every other way in is refused — and each refusal is in the environment's
// audit log, which still verifies.
#include <gtest/gtest.h>

#include <set>

#include "base/crypto.h"
#include "base/files.h"
#include "base/http_client.h"
#include "cli_server_fixture.h"

namespace byoc::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

std::string strip_zeros(std::string serial) {
  while (serial.size() > 1 && serial[0] == '0') serial.erase(0, 1);
  return serial;
}

// The one file of that name below `dir` (the agent's state dir and the
// runtime's service directories live below the environment's).
fs::path find_file(const fs::path& dir, const std::string& name) {
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename() == name) return entry.path();
  return {};
}

class SupportGatewayTest : public CliServerTest {
 protected:
  void SetUp() override {
    CliServerTest::SetUp();
    login();
    RunResult env = byoc({"env", "create", "e1", "--cloud", "local", "--cidr", "10.1.0.0/16", "--wait", "-o", "json"});
    ASSERT_EQ(env.code, 0) << env.err;
    env_dir_ = data_ / "environments" / parse_json(env.out).value("id", "");
    RunResult svc = byoc({"service", "create", "s1", "--env", "e1", "--wait", "-o", "json"});
    ASSERT_EQ(svc.code, 0) << svc.err;
    json service = parse_json(svc.out);
    endpoint_ = service.value("endpoint", "");
    password_ = service.value("password", "");
    env_ca_ = env_json("e1").value("ca_pem", "");
    ASSERT_TRUE(testing::eventually(
        [&] { return !(gateway_ = service_json("e1", "s1").value("support_gateway", "")).empty(); }, 30s));
    ASSERT_EQ(gateway_.rfind("https://127.0.0.1:", 0), 0u) << gateway_;
    operator_ = token_env("operator", "eve@vendor.example");
    approver_ = token_env("approver", "bob@vendor.example");
  }

  // Requested by the operator, approved, the certificate collected: its id.
  std::string granted_request() {
    RunResult r = byoc({"access", "request", "--env", "e1", "--scope", "clickhouse-system", "--reason",
                        "INC-7: replication lag", "--duration", "1h", "-o", "json"},
                       operator_);
    EXPECT_EQ(r.code, 0) << r.err;
    std::string id = parse_json(r.out).value("id", "");
    RunResult approved = byoc({"access", "approve", id, "--reason", "INC-7 is real"}, approver_);
    EXPECT_EQ(approved.code, 0) << approved.err;
    RunResult login = byoc({"access", "login", id, "--timeout", "60"}, operator_);
    EXPECT_EQ(login.code, 0) << login.err;
    return id;
  }

  fs::path access_file(const std::string& name) const { return home_ / ".config" / "byoc" / "access" / name; }

  // As the default user, through the service's endpoint.
  http::Response as_default(const std::string& sql, const std::string& user = "default",
                            const std::string& password = "") {
    http::Client client(http::TlsOptions{.ca_pem = env_ca_});
    http::Request request{.method = "POST", .url = endpoint_ + "/", .body = sql};
    request.timeout = 10s;
    request.headers = {{"Authorization", basic(user, password.empty() ? password_ : password)}};
    return client.send(request);
  }

  struct Gateway {
    std::string certificate_pem, key_pem;
  };
  http::Response through(http::Client& client, const std::string& sql, const std::string& suffix = "",
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request request{.method = "POST", .url = gateway_ + "/" + suffix, .headers = std::move(headers), .body = sql};
    request.timeout = 10s;
    return client.send(request);
  }
  http::Response through(const Gateway& who, const std::string& sql, const std::string& suffix = "",
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Client client(
        http::TlsOptions{.ca_pem = env_ca_, .client_cert_pem = who.certificate_pem, .client_key_pem = who.key_pem});
    return through(client, sql, suffix, std::move(headers));
  }

  // A certificate for a new key from the environment's support CA itself,
  // valid over [from, until): what only the agent should ever make.
  Gateway minted_by_the_support_ca(TimePoint from, TimePoint until) {
    fs::path ca_key = find_file(env_dir_, "support-ca.key");
    EXPECT_FALSE(ca_key.empty());
    crypto::KeyedCertificate ca{read_text(ca_key.parent_path() / "support-ca.pem"), read_text(ca_key)};
    crypto::CertificateSpec spec;
    spec.common_name = "mallory@vendor.example";
    spec.client_auth = true;
    spec.not_before = from;
    spec.not_after = until;
    crypto::KeyedCertificate made = crypto::issue(ca, spec);
    return {made.cert_pem, made.key_pem};
  }

  // The gateway refusals on the environment's audit record: reason → serials.
  std::map<std::string, std::set<std::string>> audited_refusals() {
    RunResult listed = byoc({"audit", "list", "--env", "e1", "--limit", "1000", "-o", "json"});
    EXPECT_EQ(listed.code, 0) << listed.err;
    std::map<std::string, std::set<std::string>> out;
    const json page = parse_json(listed.out);
    for (const auto& item : page["items"])
      if (item["entry"].value("type", "") == "gateway_denial")
        out[item["entry"].value("reason_code", "")].insert(item["entry"].value("serial", ""));
    return out;
  }

  fs::path env_dir_;
  std::string endpoint_, password_, env_ca_, gateway_;
  std::map<std::string, std::string> operator_, approver_;
};

TEST_F(SupportGatewayTest, AGrantReadsSystemTablesUnderItsSerialAndEveryOtherWayInIsRefusedOnTheRecord) {
  std::string id = granted_request();
  Gateway engineer{read_text(access_file(id + ".pem")), read_text(access_file(id + ".key"))};
  ASSERT_FALSE(engineer.certificate_pem.empty());
  const std::string serial = strip_zeros(crypto::inspect(engineer.certificate_pem).serial_hex);

  // The grant reads the system tables, and its queries are logged under its serial.
  RunResult probe = byoc({"access", "query", id, "SELECT 'probe-77' AS p"}, operator_);
  ASSERT_EQ(probe.code, 0) << probe.err;
  EXPECT_EQ(probe.out, "probe-77\n");
  ASSERT_EQ(as_default("SYSTEM FLUSH LOGS").status, 200);
  RunResult logged = byoc({"access", "query", id,
                           "SELECT quota_key, user, http_user_agent FROM system.query_log WHERE type = 2 AND "
                           "query LIKE '%probe-77%' AND query NOT LIKE '%query_log%' FORMAT TSV"},
                          operator_);
  ASSERT_EQ(logged.code, 0) << logged.err;
  EXPECT_EQ(logged.out.rfind(serial + "\tsupport\tbyoc-support serial=" + serial + " dn=", 0), 0u)
      << logged.out << " (serial " << serial << ")";
  EXPECT_NE(logged.out.find("CN=eve@vendor.example"), std::string::npos) << logged.out;

  // Nothing but the system tables; no setting changes (readonly, log_queries); no writes.
  ASSERT_EQ(as_default("CREATE TABLE default.t (x UInt8) ENGINE = Memory").status, 200);
  ASSERT_EQ(as_default("INSERT INTO default.t VALUES (1)").status, 200);
  RunResult user_table = byoc({"access", "query", id, "SELECT * FROM default.t"}, operator_);
  EXPECT_EQ(user_table.code, 1) << user_table.out;
  EXPECT_EQ(user_table.err_lines(), 1u) << user_table.err;
  EXPECT_NE(user_table.err.find("the gateway answered"), std::string::npos) << user_table.err;
  EXPECT_NE(through(engineer, "SELECT 1", "?readonly=0").status, 200);
  EXPECT_NE(through(engineer, "SELECT 1", "?log_queries=0").status, 200);
  EXPECT_NE(through(engineer, "SET log_queries = 0").status, 200);
  EXPECT_NE(through(engineer, "SELECT 1 SETTINGS readonly = 0").status, 200);
  EXPECT_NE(through(engineer, "INSERT INTO default.t VALUES (2)").status, 200);
  EXPECT_NE(through(engineer, "CREATE TABLE default.u (x UInt8) ENGINE = Memory").status, 200);
  EXPECT_EQ(through(engineer, "SELECT 1").body, "1\n");

  // Credentials of the client's own are refused, however spelt.
  http::Response with_password = through(engineer, "SELECT 1", "?user=default&password=" + password_);
  EXPECT_EQ(with_password.status, 403);
  EXPECT_EQ(json::parse(with_password.body, nullptr, false)["error"]["code"], "credentials_supplied")
      << with_password.body;
  EXPECT_EQ(through(engineer, "SELECT 1", "?us%65r=default").status, 403);
  EXPECT_EQ(through(engineer, "SELECT 1", "", {{"Authorization", basic("default", password_)}}).status, 403);
  EXPECT_EQ(through(engineer, "SELECT 1", "", {{"X-ClickHouse-User", "support"}}).status, 403);

  // Certificates the gateway refuses: none, another CA's, expired, not yet valid.
  http::Response none = through(Gateway{}, "SELECT 1");
  EXPECT_EQ(none.status, 403) << none.body;
  EXPECT_NE(none.body.find("no_certificate"), std::string::npos) << none.body;
  auto now = std::chrono::system_clock::now();
  crypto::CertificateSpec ca_spec;
  ca_spec.common_name = "another environment's support CA";
  ca_spec.not_before = now - 1h;
  ca_spec.not_after = now + 24h;
  crypto::KeyedCertificate other_ca = crypto::make_ca(ca_spec);
  crypto::CertificateSpec spec;
  spec.common_name = "eve@vendor.example";
  spec.client_auth = true;
  spec.not_before = now - 1h;
  spec.not_after = now + 1h;
  crypto::KeyedCertificate other = crypto::issue(other_ca, spec);
  http::Response foreign = through(Gateway{other.cert_pem, other.key_pem}, "SELECT 1");
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  EXPECT_NE(foreign.body.find("certificate_untrusted"), std::string::npos) << foreign.body;
  // Another CA's expired certificate names nobody: nginx would call it expired.
  spec.not_before = now - 2h;
  spec.not_after = now - 1h;
  crypto::KeyedCertificate forged = crypto::issue(other_ca, spec);
  http::Response forged_answer = through(Gateway{forged.cert_pem, forged.key_pem}, "SELECT 1");
  EXPECT_NE(forged_answer.body.find("certificate_untrusted"), std::string::npos) << forged_answer.body;
  Gateway expired = minted_by_the_support_ca(now - 2h, now - 1h);
  http::Response too_late = through(expired, "SELECT 1");
  EXPECT_NE(too_late.body.find("certificate_expired"), std::string::npos) << too_late.status << too_late.body;
  Gateway early = minted_by_the_support_ca(now + 1h, now + 2h);
  http::Response too_early = through(early, "SELECT 1");
  EXPECT_NE(too_early.body.find("certificate_not_yet_valid"), std::string::npos)
      << too_early.status << too_early.body;
  // A certificate the support CA made for no grant (as a stolen CA key would).
  Gateway stray = minted_by_the_support_ca(now - 1h, now + 1h);
  EXPECT_EQ(through(stray, "SELECT 1").status, 403);

  // The support user has no way in but the gateway: not through the
  // endpoint, not even with its real password.
  std::string support_password = read_text(find_file(env_dir_, "support.secret"));
  ASSERT_EQ(support_password.size(), 64u);
  EXPECT_NE(as_default("SELECT 1", "support", support_password).status, 200);
  EXPECT_NE(as_default("SELECT 1", "support", "guess").status, 200);

  // Revoked while a keep-alive connection is open: its next request is refused.
  http::Client kept(
      http::TlsOptions{.ca_pem = env_ca_, .client_cert_pem = engineer.certificate_pem, .client_key_pem = engineer.key_pem});
  ASSERT_EQ(through(kept, "SELECT 1").status, 200);
  RunResult revoked = byoc({"access", "revoke", id}, approver_);
  ASSERT_EQ(revoked.code, 0) << revoked.err;
  http::Response refused;
  EXPECT_TRUE(testing::eventually([&] { return (refused = through(kept, "SELECT 1")).status == 403; }, 10s));
  EXPECT_EQ(json::parse(refused.body, nullptr, false)["error"]["code"], "grant_inactive") << refused.body;
  // And once the CRL is reloaded, the handshake itself names the revocation.
  EXPECT_TRUE(testing::eventually(
      [&] { return through(engineer, "SELECT 1").body.find("certificate_revoked") != std::string::npos; }, 20s));
  RunResult after = byoc({"access", "query", id, "SELECT 1"}, operator_);
  EXPECT_EQ(after.code, 1);
  EXPECT_EQ(after.err_lines(), 1u) << after.err;

  // Every refusal is on the environment's record, by reason and serial.
  const std::string expired_serial = strip_zeros(crypto::inspect(expired.certificate_pem).serial_hex);
  const std::string stray_serial = strip_zeros(crypto::inspect(stray.certificate_pem).serial_hex);
  std::map<std::string, std::set<std::string>> audited;
  bool complete = testing::eventually(
      [&] {
        audited = audited_refusals();
        return audited["no_certificate"].count("") && audited["certificate_untrusted"] == std::set<std::string>{""} &&
               audited["certificate_expired"].count(expired_serial) && audited["certificate_not_yet_valid"].size() &&
               audited["credentials_supplied"].count(serial) && audited["grant_inactive"].count(stray_serial) &&
               audited["grant_inactive"].count(serial) && audited["certificate_revoked"].count(serial);
      },
      30s);
  EXPECT_TRUE(complete) << [&] {
    std::string s;
    for (const auto& [reason, serials] : audited) s += reason + ":" + std::to_string(serials.size()) + " ";
    return s + "\nagent log:\n" + read_text(find_file(env_dir_, "agent.log"));
  }();
  RunResult verified = byoc({"audit", "verify", "--env", "e1"});
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

}  // namespace
}  // namespace byoc::e2e
