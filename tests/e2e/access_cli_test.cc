// `byoc access …` against a real server: an operator asks for access to an
// environment (the private key stays on its machine, 0600, and the server
// holds the hash of exactly that key), the requester can't approve its own
// request, an approver can; nothing issues certificates yet, so `login`
// times out in one line; a revoked request is over (`login` says so); the
// requester ends another with `done`; `keygen` writes a customer approval
// key and never overwrites one.
#include <gtest/gtest.h>

#include "access/signed_note.h"
#include "base/crypto.h"
#include "cli_server_fixture.h"

namespace byoc::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class AccessCliTest : public CliServerTest {
 protected:
  void SetUp() override {
    CliServerTest::SetUp();
    login();
    ASSERT_EQ(byoc({"env", "create", "x", "--cloud", "external", "--cidr", "10.3.0.0/16"}).code, 0);
    operator_ = token_env("operator", "eve@vendor.example");
    approver_ = token_env("approver", "bob@vendor.example");
  }

  json request_access(const std::string& reason) {
    RunResult r = byoc({"access", "request", "--env", "x", "--scope", "clickhouse-system", "--reason", reason,
                        "--duration", "2h", "-o", "json"},
                       operator_);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err_lines(), 1u) << r.err;  // where the key went
    return parse_json(r.out);
  }

  std::string state_of(const RunResult& r) {
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    return parse_json(r.out).value("state", "");
  }

  // Exactly one line on stderr is an error, and it holds `words`.
  void expect_one_error(const RunResult& r, const std::string& words) {
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    size_t errors = 0;
    for (size_t at = r.err.find("error: "); at != std::string::npos; at = r.err.find("error: ", at + 1)) ++errors;
    EXPECT_EQ(errors, 1u) << r.err;
    EXPECT_EQ(r.err.back(), '\n');
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
  }

  fs::path access_dir() const { return home_ / ".config" / "byoc" / "access"; }

  std::map<std::string, std::string> operator_, approver_;
};

TEST_F(AccessCliTest, RequestApproveRevokeAndDoneWithTheKeyKeptHere) {
  json requested = request_access("INC-1: merges stuck");
  std::string id = requested.value("id", "");
  ASSERT_FALSE(id.empty()) << requested.dump();
  EXPECT_EQ(requested["state"], "PENDING");
  EXPECT_EQ(requested["environment"], "x");
  EXPECT_EQ(requested["requester"], "eve@vendor.example");
  EXPECT_EQ(requested["duration_seconds"], 7200);

  fs::path key_file = access_dir() / (id + ".key");
  EXPECT_EQ(file_mode(key_file), 0600u);
  EXPECT_EQ(file_mode(access_dir()), 0700u);
  std::string key = read_text(key_file);
  ASSERT_NE(key.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(requested["csr_public_key_sha256"], crypto::csr_public_key_sha256_hex(crypto::make_csr(key, "x")));

  // The requester can't review (its own or any): one line, exit 1.
  RunResult self = byoc({"access", "approve", id, "--reason", "looks fine"}, operator_);
  EXPECT_EQ(self.code, 1) << self.out;
  EXPECT_EQ(self.err_lines(), 1u) << self.err;

  EXPECT_EQ(state_of(byoc({"access", "approve", id, "--reason", "INC-1 is real", "-o", "json"}, approver_)),
            "APPROVED");
  RunResult listed = byoc({"access", "list", "--env", "x", "--state", "APPROVED", "-o", "json"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  json items = parse_json(listed.out)["items"];
  ASSERT_EQ(items.size(), 1u) << listed.out;
  EXPECT_EQ(items[0]["id"], id);
  EXPECT_EQ(items[0]["reviews"][0]["reviewer"], "bob@vendor.example");
  RunResult table = byoc({"access", "list", "--env", "x"}, approver_);
  EXPECT_NE(table.out.find(id + "   APPROVED   eve@vendor.example   clickhouse-system   2h"), std::string::npos)
      << table.out;

  // Nothing issues certificates yet: login waits, then gives up in one line.
  RunResult waited = byoc({"access", "login", id, "--timeout", "3"}, operator_);
  expect_one_error(waited, "has not issued it yet");
  EXPECT_NE(waited.err.find("timed out"), std::string::npos) << waited.err;
  EXPECT_FALSE(fs::exists(access_dir() / (id + ".pem")));

  EXPECT_EQ(state_of(byoc({"access", "revoke", id, "-o", "json"}, approver_)), "REVOKED");
  RunResult ended = byoc({"access", "login", id, "--timeout", "3"}, operator_);
  EXPECT_EQ(ended.err_lines(), 1u) << ended.err;
  expect_one_error(ended, "REVOKED");

  json other = request_access("INC-2: one more look");
  std::string other_id = other.value("id", "");
  ASSERT_FALSE(other_id.empty());
  EXPECT_NE(other_id, id);
  EXPECT_NE(read_text(access_dir() / (other_id + ".key")), key) << "a fresh key per request";
  RunResult not_theirs = byoc({"access", "done", other_id}, approver_);
  EXPECT_EQ(not_theirs.code, 1);
  EXPECT_EQ(state_of(byoc({"access", "done", other_id, "-o", "json"}, operator_)), "DONE");
  RunResult shown = byoc({"access", "get", other_id});
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_NE(shown.out.find("state:"), std::string::npos);
  EXPECT_NE(shown.out.find("DONE"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("eve@vendor.example"), std::string::npos) << shown.out;
}

TEST_F(AccessCliTest, ABadDurationIsAUsageErrorAndLeavesNoKey) {
  RunResult r = byoc({"access", "request", "--env", "x", "--reason", "r", "--duration", "2"}, operator_);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1u) << r.err;
  RunResult refused = byoc({"access", "request", "--env", "nope", "--reason", "r", "--duration", "1h"}, operator_);
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err_lines(), 1u) << refused.err;
  EXPECT_TRUE(!fs::exists(access_dir()) || fs::is_empty(access_dir()));
}

TEST_F(AccessCliTest, KeygenWritesACustomerKeyAndNeverOverwritesIt) {
  fs::path out = root_.path() / "acme-approver.key";
  RunResult made = byoc({"access", "keygen", "--name", "acme-security", "--out", out.string()});
  ASSERT_EQ(made.code, 0) << made.err;
  EXPECT_EQ(file_mode(out), 0600u);
  std::string signer_text = read_text(out);
  ASSERT_FALSE(signer_text.empty());
  auto signer = access::note::parse_signer(signer_text.substr(0, signer_text.size() - 1));
  ASSERT_FALSE(made.out.empty());
  EXPECT_EQ(made.out, access::note::format_verifier(access::note::verifier_of(signer)) + "\n");

  RunResult again = byoc({"access", "keygen", "--name", "acme-security", "--out", out.string()});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err_lines(), 1u) << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(read_text(out), signer_text);
}

}  // namespace
}  // namespace byoc::e2e
