// `byoc access …` through run(), with requests answered in-process
// (Io::transport): what each command sends (never the private key), which
// files it leaves where and with which modes, the customer's signed approval,
// the certificate pick-up, and the one-line errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "access/access_request.h"
#include "access/signed_note.h"
#include "base/crypto.h"
#include "base/files.h"
#include "cli/app.h"
#include "cli/requests.h"
#include "testing/testing.h"

namespace byoc::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct Sent {
  std::string method;
  std::string path;  // after the server URL, with the query
  std::string body;  // as sent
};

struct Result {
  int code;
  std::string out;
  std::string err;
  long err_lines() const { return std::count(err.begin(), err.end(), '\n'); }
};

constexpr const char* kServer = "https://byoc.test:8443";

unsigned mode_of(const fs::path& path) {
  return static_cast<unsigned>(fs::status(path).permissions()) & 0777u;
}

json access_request(const std::string& id, const std::string& state = "PENDING") {
  return {{"id", id},
          {"environment", "e1"},
          {"environment_id", "env-123"},
          {"organization", "acme"},
          {"scope", "clickhouse-system"},
          {"requester", "alice@vendor.example"},
          {"reason", "INC-42: slow merges"},
          {"duration_seconds", 5400},
          {"state", state},
          {"reviews", json::array()},
          {"required", {{"approvals", 1}, {"customer", true}}},
          {"customer_approval", false},
          {"csr_public_key_sha256", std::string(64, 'a')},
          {"created_at", "2026-12-06T10:00:00Z"},
          {"updated_at", "2026-12-06T10:00:00Z"},
          {"expires_at", "2026-12-06T11:00:00Z"},
          {"not_before", nullptr},
          {"not_after", nullptr},
          {"certificate_serial", nullptr},
          {"refusal", nullptr},
          {"ended_by", nullptr}};
}

json error_body(const std::string& code, const std::string& message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

class AccessCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { files::write_atomic(home_.path() / "ca.pem", "pinned CA\n", 0644); }

  void answer(int status, const json& body) { answers_.push_back({status, body.is_null() ? "" : body.dump()}); }

  Result run_cli(std::vector<std::string> args) {
    std::ostringstream out, err;
    Io io{out, err, clock_, false,
          map_env({{"HOME", home_.path().string()},
                   {"BYOC_SERVER", kServer},
                   {"BYOC_TOKEN", "byoc_t1.secret"},
                   {"BYOC_CA_FILE", (home_.path() / "ca.pem").string()}}),
          [this](const http::Request& request) { return send(request); }};
    int code = run(args, io);
    return {code, out.str(), err.str()};
  }

  http::Response send(const http::Request& request) {
    EXPECT_EQ(request.url.rfind(kServer, 0), 0u) << request.url;
    sent_.push_back({request.method, request.url.substr(std::string(kServer).size()), request.body});
    if (answers_.empty()) {
      ADD_FAILURE() << "unexpected request " << request.method << " " << request.url;
      return {500, "", {}};
    }
    auto [status, body] = answers_.front();
    answers_.pop_front();
    if (status == 0) throw Error::Unavailable("cannot reach " + request.url + ": connection reset");
    return {status, body, {}};
  }

  fs::path access_dir() const { return home_.path() / ".config" / "byoc" / "access"; }

  std::vector<std::string> access_files() const {
    std::vector<std::string> names;
    if (!fs::exists(access_dir())) return names;
    for (const auto& entry : fs::directory_iterator(access_dir())) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  testing::TempDir home_;
  SystemClock clock_;
  std::deque<std::pair<int, std::string>> answers_;  // status 0: the connection fails
  std::vector<Sent> sent_;
};

TEST_F(AccessCommandsTest, RequestSendsOnlyTheCsrAndKeepsTheKeyNamedAfterTheRequest) {
  answer(201, access_request("acc-7f3a"));
  Result r = run_cli({"access", "request", "--env", "e1", "--reason", "INC-42: slow merges", "--duration", "1h30m",
                      "--organization", "acme"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].method, "POST");
  EXPECT_EQ(sent_[0].path, "/v1/environments/e1/access-requests?organization=acme");
  EXPECT_EQ(sent_[0].body.find("PRIVATE KEY"), std::string::npos) << sent_[0].body;
  json body = json::parse(sent_[0].body);
  std::vector<std::string> keys;
  for (const auto& [key, value] : body.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"csr", "duration_seconds", "reason", "scope"}));
  EXPECT_EQ(body["scope"], "clickhouse-system");
  EXPECT_EQ(body["reason"], "INC-42: slow merges");
  EXPECT_EQ(body["duration_seconds"], 5400);

  fs::path key_file = access_dir() / "acc-7f3a.key";
  EXPECT_EQ(access_files(), (std::vector<std::string>{"acc-7f3a.key"}));
  EXPECT_EQ(mode_of(key_file), 0600u);
  EXPECT_EQ(mode_of(access_dir()), 0700u);
  std::string key = files::read(key_file);
  EXPECT_NE(key.find("PRIVATE KEY"), std::string::npos);
  // The CSR sent is for the key kept.
  EXPECT_EQ(crypto::csr_public_key_sha256_hex(body["csr"].get<std::string>()),
            crypto::csr_public_key_sha256_hex(crypto::make_csr(key, "x")));
  EXPECT_EQ(r.err, "private key saved in " + key_file.string() + "\n");
  EXPECT_NE(r.out.find("id:                acc-7f3a\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("duration:          1h30m\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("required:          1 approval and the customer's\n"), std::string::npos) << r.out;

  // A second request gets a key of its own; -o json prints the server's answer.
  answer(201, access_request("acc-8b11"));
  Result j = run_cli({"access", "request", "--env", "e1", "--reason", "again", "--duration", "3600", "-o", "json"});
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(json::parse(sent_[1].body)["duration_seconds"], 3600);
  EXPECT_EQ(sent_[1].path, "/v1/environments/e1/access-requests");
  EXPECT_EQ(json::parse(j.out), access_request("acc-8b11"));
  EXPECT_EQ(access_files(), (std::vector<std::string>{"acc-7f3a.key", "acc-8b11.key"}));
  EXPECT_NE(files::read(access_dir() / "acc-8b11.key"), key);
}

TEST_F(AccessCommandsTest, ARefusedRequestLeavesNoKeyAnUnansweredOneKeepsIt) {
  answer(403, error_body("forbidden", "operators only"));
  Result refused = run_cli({"access", "request", "--env", "e1", "--reason", "r", "--duration", "2h"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "error: operators only\n");
  EXPECT_TRUE(access_files().empty());

  // No answer: the request may exist, so its key stays (under its temporary name).
  answer(0, nullptr);
  Result lost = run_cli({"access", "request", "--env", "e1", "--reason", "r", "--duration", "2h"});
  EXPECT_EQ(lost.code, 1);
  EXPECT_EQ(lost.err_lines(), 1) << lost.err;
  ASSERT_EQ(access_files().size(), 1u);
  EXPECT_EQ(access_files()[0].rfind("pending-", 0), 0u);
  EXPECT_NE(lost.err.find(access_files()[0]), std::string::npos) << lost.err;
}

TEST_F(AccessCommandsTest, ABadDurationIsAUsageErrorBeforeAnything) {
  for (std::string bad : {"2", "2x", "0s", "-1h", "1.5h", ""}) {
    Result r = run_cli({"access", "request", "--env", "e1", "--reason", "r", "--duration", bad});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_NE(r.err.find("is not a duration"), std::string::npos) << r.err;
  }
  Result missing = run_cli({"access", "request", "--env", "e1", "--duration", "2h"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "error: --reason is required\n");
  EXPECT_TRUE(sent_.empty());
  EXPECT_TRUE(access_files().empty());
}

TEST_F(AccessCommandsTest, ListGetReviewRevokeAndDoneSendWhatTheyShould) {
  json listed = {{"items", {access_request("acc-1", "APPROVED")}}};
  answer(200, listed);
  Result list = run_cli({"access", "list", "--env", "e1", "--state", "APPROVED", "--requester", "a@b", "--organization",
                         "acme"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(sent_.back().path, "/v1/environments/e1/access-requests?state=APPROVED&requester=a%40b&organization=acme");
  EXPECT_EQ(list.out,
            "ID      STATE      REQUESTER              SCOPE               DURATION   CREATED                REASON\n"
            "acc-1   APPROVED   alice@vendor.example   clickhouse-system   1h30m      2026-12-06T10:00:00Z   "
            "INC-42: slow merges\n");

  answer(200, access_request("acc-1"));
  ASSERT_EQ(run_cli({"access", "get", "acc-1"}).code, 0);
  EXPECT_EQ(sent_.back().method, "GET");
  EXPECT_EQ(sent_.back().path, "/v1/access-requests/acc-1");

  answer(200, access_request("acc-1", "APPROVED"));
  ASSERT_EQ(run_cli({"access", "approve", "acc-1", "--reason", "ok"}).code, 0);
  EXPECT_EQ(sent_.back().path, "/v1/access-requests/acc-1/reviews");
  EXPECT_EQ(json::parse(sent_.back().body), (json{{"decision", "approve"}, {"reason", "ok"}}));

  answer(200, access_request("acc-1", "DENIED"));
  ASSERT_EQ(run_cli({"access", "deny", "acc-1", "--reason", "not now"}).code, 0);
  EXPECT_EQ(json::parse(sent_.back().body), (json{{"decision", "deny"}, {"reason", "not now"}}));

  size_t before = sent_.size();
  EXPECT_EQ(run_cli({"access", "approve", "acc-1"}).code, 2) << "--reason is required";
  EXPECT_EQ(run_cli({"access", "deny", "acc-1"}).code, 2) << "--reason is required";
  EXPECT_EQ(sent_.size(), before);

  answer(200, access_request("acc-1", "REVOKED"));
  ASSERT_EQ(run_cli({"access", "revoke", "acc-1"}).code, 0);
  EXPECT_EQ(sent_.back().method, "POST");
  EXPECT_EQ(sent_.back().path, "/v1/access-requests/acc-1/revoke");
  EXPECT_EQ(json::parse(sent_.back().body), json::object());

  answer(200, access_request("acc-1", "DONE"));
  Result done = run_cli({"access", "done", "acc-1", "-o", "json"});
  ASSERT_EQ(done.code, 0);
  EXPECT_EQ(sent_.back().path, "/v1/access-requests/acc-1/done");
  EXPECT_EQ(json::parse(done.out)["state"], "DONE");

  answer(409, error_body("already_final", "access request acc-1 is DONE"));
  Result again = run_cli({"access", "done", "acc-1"});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "error: access request acc-1 is DONE\n");
}

TEST_F(AccessCommandsTest, ApproveWithACustomerKeySignsExactlyThisGrant) {
  access::note::Signer signer = access::note::make_signer("acme-security", crypto::random_bytes(32));
  fs::path key_file = home_.path() / "customer.key";
  files::write_atomic(key_file, access::note::format_signer(signer) + "\n", 0600);
  json request = access_request("acc-9");
  answer(200, request);
  answer(200, access_request("acc-9", "APPROVED"));
  Result r = run_cli({"access", "approve", "acc-9", "--reason", "go ahead", "--customer-key", key_file.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].method, "GET");
  EXPECT_EQ(sent_[0].path, "/v1/access-requests/acc-9");
  EXPECT_EQ(sent_[1].path, "/v1/access-requests/acc-9/reviews");
  json body = json::parse(sent_[1].body);
  EXPECT_EQ(body["decision"], "approve");
  EXPECT_EQ(body["reason"], "go ahead");
  access::note::Opened opened =
      access::note::open(body["customer_approval"].get<std::string>(), {access::note::verifier_of(signer)});
  model::AccessRequest grant;
  grant.id = "acc-9";
  grant.environment_id = "env-123";
  grant.scope = "clickhouse-system";
  grant.requester = "alice@vendor.example";
  grant.duration_seconds = 5400;
  grant.expires_at = *parse_rfc3339("2026-12-06T11:00:00Z");
  grant.csr_public_key_sha256 = std::string(64, 'a');
  EXPECT_EQ(opened.text, access::approval_text(grant));
  EXPECT_EQ(opened.verified_by, (std::vector<std::string>{"acme-security"}));
  EXPECT_NE(r.err.find(opened.text), std::string::npos) << "the customer sees what they sign";

  // The server describes another request than the one asked for: nothing is signed.
  sent_.clear();
  answer(200, access_request("acc-other"));
  Result swapped = run_cli({"access", "approve", "acc-9", "--reason", "go", "--customer-key", key_file.string()});
  EXPECT_EQ(swapped.code, 1);
  EXPECT_EQ(sent_.size(), 1u) << "no review sent";

  // Not a signer key: one line naming the file, nothing sent.
  fs::path wrong = home_.path() / "wrong.key";
  files::write_atomic(wrong, access::note::format_verifier(access::note::verifier_of(signer)) + "\n", 0600);
  Result bad = run_cli({"access", "approve", "acc-9", "--reason", "x", "--customer-key", wrong.string()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err_lines(), 1) << bad.err;
  EXPECT_NE(bad.err.find(wrong.string()), std::string::npos) << bad.err;
  EXPECT_EQ(sent_.size(), 1u) << "nothing more sent";
}

TEST_F(AccessCommandsTest, KeygenWritesASignerThatParsesBackAndNeverOverwrites) {
  fs::path out = home_.path() / "acme.key";
  Result r = run_cli({"access", "keygen", "--name", "acme-security", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(mode_of(out), 0600u);
  std::string text = files::read(out);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  access::note::Signer signer = access::note::parse_signer(text.substr(0, text.size() - 1));
  EXPECT_EQ(signer.name, "acme-security");
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.back(), '\n');
  access::note::Verifier verifier = access::note::parse_verifier(r.out.substr(0, r.out.size() - 1));
  EXPECT_EQ(access::note::format_verifier(verifier), access::note::format_verifier(access::note::verifier_of(signer)));

  Result again = run_cli({"access", "keygen", "--name", "other", "--out", out.string()});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "error: " + out.string() + " already exists: not overwriting it\n");
  EXPECT_EQ(files::read(out), text);
  EXPECT_EQ(again.out, "");

  Result bad_name = run_cli({"access", "keygen", "--name", "a+b", "--out", (home_.path() / "x").string()});
  EXPECT_EQ(bad_name.code, 2);
  EXPECT_FALSE(fs::exists(home_.path() / "x"));
  EXPECT_TRUE(sent_.empty());
}

TEST_F(AccessCommandsTest, LoginWaitsForTheCertificateAndSavesItBesideTheKey) {
  std::string key = crypto::generate_key_pem();
  files::ensure_dir(access_dir(), 0700);
  files::write_atomic(access_dir() / "acc-5.key", key, 0600);
  crypto::CertificateSpec ca_spec{.common_name = "support CA",
                                  .not_before = clock_.system_time() - std::chrono::hours(1),
                                  .not_after = clock_.system_time() + std::chrono::hours(24)};
  crypto::KeyedCertificate ca = crypto::make_ca(ca_spec);
  crypto::CertificateSpec spec{.common_name = "alice@vendor.example",
                               .client_auth = true,
                               .not_before = clock_.system_time() - std::chrono::minutes(1),
                               .not_after = clock_.system_time() + std::chrono::hours(1)};
  std::string certificate = crypto::sign_csr(ca, crypto::make_csr(key, "byoc-support"), spec);

  answer(409, error_body("not_issued", "access request acc-5 is APPROVED: the environment's agent has not issued it yet"));
  answer(200, {{"certificate", certificate},
               {"ca", ca.cert_pem},
               {"gateway", "https://10.3.0.5:9440"},
               {"not_after", "2026-12-06T12:00:00Z"}});
  Result r = run_cli({"access", "login", "acc-5", "--timeout", "30"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].method, "GET");
  EXPECT_EQ(sent_[1].path, "/v1/access-requests/acc-5/certificate");
  EXPECT_EQ(r.err, "waiting: access request acc-5 is APPROVED: the environment's agent has not issued it yet\n");
  EXPECT_EQ(files::read(access_dir() / "acc-5.pem"), certificate);
  EXPECT_EQ(files::read(access_dir() / "acc-5.ca.pem"), ca.cert_pem);
  EXPECT_EQ(mode_of(access_dir() / "acc-5.pem"), 0600u);
  EXPECT_EQ(mode_of(access_dir() / "acc-5.ca.pem"), 0600u);
  EXPECT_NE(r.out.find("certificate: " + (access_dir() / "acc-5.pem").string() + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gateway:     https://10.3.0.5:9440\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not_after:   2026-12-06T12:00:00Z\n"), std::string::npos) << r.out;

  // A certificate for another key is refused, not saved.
  answer(200, {{"certificate", crypto::sign_csr(ca, crypto::make_csr(crypto::generate_key_pem(), "x"), spec)},
               {"ca", ca.cert_pem},
               {"gateway", "https://10.3.0.5:9440"},
               {"not_after", "2026-12-06T12:00:00Z"}});
  Result wrong = run_cli({"access", "login", "acc-5"});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_EQ(wrong.err_lines(), 1) << wrong.err;
  EXPECT_EQ(files::read(access_dir() / "acc-5.pem"), certificate);
}

TEST_F(AccessCommandsTest, LoginFailsInOneLineWhenItEndedOrThereIsNoKey) {
  files::ensure_dir(access_dir(), 0700);
  files::write_atomic(access_dir() / "acc-6.key", crypto::generate_key_pem(), 0600);
  answer(410, error_body("ended", "access request acc-6 is REVOKED"));
  Result ended = run_cli({"access", "login", "acc-6"});
  EXPECT_EQ(ended.code, 1);
  EXPECT_EQ(ended.err, "error: cannot log in: access request acc-6 is REVOKED\n");

  Result no_key = run_cli({"access", "login", "acc-404"});
  EXPECT_EQ(no_key.code, 1);
  EXPECT_EQ(no_key.err_lines(), 1) << no_key.err;
  EXPECT_NE(no_key.err.find("acc-404.key"), std::string::npos) << no_key.err;
  EXPECT_EQ(sent_.size(), 1u) << "nothing asked without a key";

  Result bad_id = run_cli({"access", "login", "../config"});
  EXPECT_EQ(bad_id.code, 2);
  EXPECT_EQ(sent_.size(), 1u);
}

class AccessKubeconfigTest : public AccessCommandsTest {
 protected:
  void SetUp() override {
    AccessCommandsTest::SetUp();
    files::ensure_dir(access_dir(), 0700);
    files::write_atomic(access_dir() / "acc-7.key", key, 0600);
    ca = crypto::make_ca({.common_name = "environment CA",
                          .not_before = clock_.system_time() - std::chrono::hours(1),
                          .not_after = clock_.system_time() + std::chrono::hours(24)});
    crypto::CertificateSpec spec{.common_name = "alice@vendor.example",
                                 .client_auth = true,
                                 .not_before = clock_.system_time() - std::chrono::minutes(1),
                                 .not_after = clock_.system_time() + std::chrono::hours(1)};
    certificate = crypto::sign_csr(ca, crypto::make_csr(key, "byoc-support"), spec);
  }

  json k8s_request(const std::string& state = "ACTIVE") {
    json r = access_request("acc-7", state);
    r["scope"] = "kubernetes-readonly";
    return r;
  }
  json issued() {
    return {{"certificate", certificate},
            {"ca", ca.cert_pem},
            {"support_ca", "support CA"},
            {"gateway", "https://10.0.0.9:9440"},
            {"gateways",
             {{{"service", "a"}, {"gateway", "https://10.0.0.9:9440"}, {"state", "PROVISIONING"}},
              {{"service", "b"}, {"gateway", "https://10.3.0.5:9440"}, {"state", "READY"}}}},
            {"not_after", "2026-12-06T12:00:00Z"}};
  }
  static std::string decoded(const json& value) { return crypto::base64_decode(value.get<std::string>()).value_or(""); }

  std::string key = crypto::generate_key_pem();
  crypto::KeyedCertificate ca;
  std::string certificate;
};

TEST_F(AccessKubeconfigTest, WritesAKubeconfigForAReadyGatewayWithTheGrantsCertificateAndKey) {
  answer(200, k8s_request());
  answer(200, issued());
  Result r = run_cli({"access", "kubeconfig", "acc-7"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].path, "/v1/access-requests/acc-7");
  EXPECT_EQ(sent_[1].path, "/v1/access-requests/acc-7/certificate");
  fs::path written = access_dir() / "acc-7.kubeconfig";
  EXPECT_EQ(r.out, written.string() + "\n");
  EXPECT_EQ(mode_of(written), 0600u);
  json config = json::parse(files::read(written));
  EXPECT_EQ(config["kind"], "Config");
  EXPECT_EQ(config["current-context"], "acc-7");
  const json& cluster = config["clusters"][0];
  EXPECT_EQ(cluster["name"], "byoc-e1");
  EXPECT_EQ(cluster["cluster"]["server"], "https://10.3.0.5:9440/k8s") << "a READY service's gateway";
  EXPECT_EQ(decoded(cluster["cluster"]["certificate-authority-data"]), ca.cert_pem);
  const json& user = config["users"][0];
  EXPECT_EQ(user["name"], "acc-7");
  EXPECT_EQ(decoded(user["user"]["client-certificate-data"]), certificate);
  EXPECT_EQ(decoded(user["user"]["client-key-data"]), key);
  EXPECT_EQ(config["contexts"][0]["context"], json({{"cluster", "byoc-e1"}, {"user", "acc-7"}}));
  for (const auto& s : sent_) EXPECT_EQ(s.body.find("PRIVATE"), std::string::npos) << "the key is never sent";

  // There already: refused in one line unless --force; --output elsewhere.
  answer(200, k8s_request());
  answer(200, issued());
  Result again = run_cli({"access", "kubeconfig", "acc-7"});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err_lines(), 1) << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  files::write_atomic(written, "old", 0644);
  answer(200, k8s_request());
  answer(200, issued());
  ASSERT_EQ(run_cli({"access", "kubeconfig", "acc-7", "--force"}).code, 0);
  EXPECT_EQ(json::parse(files::read(written))["current-context"], "acc-7");
  EXPECT_EQ(mode_of(written), 0600u);
  // No READY service (each is PROVISIONING a while after any change): any service's gateway.
  fs::path elsewhere = home_.path() / "k8s.json";
  json none_ready = issued();
  none_ready["gateways"][1]["state"] = "PROVISIONING";
  answer(200, k8s_request());
  answer(200, none_ready);
  ASSERT_EQ(run_cli({"access", "kubeconfig", "acc-7", "--output", elsewhere.string()}).code, 0);
  EXPECT_EQ(mode_of(elsewhere), 0600u);
  EXPECT_EQ(json::parse(files::read(elsewhere))["clusters"][0]["cluster"]["server"], "https://10.0.0.9:9440/k8s");
}

TEST_F(AccessKubeconfigTest, RefusesInOneLineAnotherScopeAGrantNotIssuedAndNoReadyGateway) {
  auto refused = [&](const std::string& expected) {
    Result r = run_cli({"access", "kubeconfig", "acc-7"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(access_dir() / "acc-7.kubeconfig"));
  };
  answer(200, access_request("acc-7", "ACTIVE"));
  refused("is for clickhouse-system: a kubeconfig is for a kubernetes-readonly grant");
  EXPECT_EQ(sent_.size(), 1u) << "no certificate asked for";

  answer(200, k8s_request("APPROVED"));
  answer(409, error_body("not_issued", "access request acc-7 is APPROVED: the environment's agent has not issued it yet"));
  refused("cannot write a kubeconfig: access request acc-7 is APPROVED");
  answer(200, k8s_request("REVOKED"));
  answer(410, error_body("ended", "access request acc-7 is REVOKED"));
  refused("cannot write a kubeconfig: access request acc-7 is REVOKED");

  json none = issued();
  none["gateways"] = json::array();
  none["gateway"] = "";
  answer(200, k8s_request());
  answer(200, none);
  refused("no service of the environment exposes a support gateway");

  json other_key = issued();
  other_key["certificate"] = crypto::sign_csr(ca, crypto::make_csr(crypto::generate_key_pem(), "x"),
                                              {.common_name = "x", .client_auth = true,
                                               .not_before = clock_.system_time() - std::chrono::minutes(1),
                                               .not_after = clock_.system_time() + std::chrono::hours(1)});
  answer(200, k8s_request());
  answer(200, other_key);
  refused("is not for the key in");

  fs::remove(access_dir() / "acc-7.key");
  size_t asked = sent_.size();
  refused("no key for access request acc-7");
  EXPECT_EQ(sent_.size(), asked) << "nothing asked without a key";
}

TEST(AccessApprovalSubject, TakesTheFieldsTheApprovalTextNames) {
  json request = access_request("acc-3");
  model::AccessRequest subject = approval_subject(request);
  model::AccessRequest expected;
  expected.id = "acc-3";
  expected.environment_id = "env-123";
  expected.scope = "clickhouse-system";
  expected.requester = "alice@vendor.example";
  expected.duration_seconds = 5400;
  expected.expires_at = *parse_rfc3339("2026-12-06T11:00:00Z");
  expected.csr_public_key_sha256 = std::string(64, 'a');
  EXPECT_EQ(access::approval_text(subject), access::approval_text(expected));
  EXPECT_EQ(access::approval_text(subject),
            "byoc access approval v1\nrequest acc-3\nenvironment env-123\nscope clickhouse-system\n"
            "requester alice@vendor.example\nduration_seconds 5400\napprove_before " +
                std::to_string(expected.expires_at) + "\ncsr_public_key_sha256 " +
                std::string(64, 'a') + "\n");
  for (const char* field : {"id", "environment_id", "scope", "requester", "duration_seconds", "csr_public_key_sha256"}) {
    json partial = request;
    partial.erase(field);
    EXPECT_EQ(testing::error_code([&] { approval_subject(partial); }), "internal") << field;
  }
  json wrong_type = request;
  wrong_type["duration_seconds"] = "5400";
  EXPECT_EQ(testing::error_code([&] { approval_subject(wrong_type); }), "internal");
  json decided = request;
  decided["expires_at"] = nullptr;  // no longer awaiting review: nothing to approve
  EXPECT_EQ(testing::error_code([&] { approval_subject(decided); }), "not_pending");
}

}  // namespace
}  // namespace byoc::cli
