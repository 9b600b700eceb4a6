// `byoc audit list|export|verify` against a real server: the log of an
// environment lists who did what (refusals too), verifies, and keeps
// verifying as it grows from a checkpoint kept earlier; an export verifies
// offline; and every way of rewriting history is caught — one byte of an
// entry flipped, the last entry dropped, two entries swapped (in an export
// or in the server's own database), the log rolled back behind a kept
// checkpoint. Each failure is one line and exit code 1.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "access/signed_note.h"
#include "base/crypto.h"
#include "base/files.h"
#include "cli_server_fixture.h"

namespace byoc::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class AuditCliTest : public CliServerTest {
 protected:
  void SetUp() override {
    CliServerTest::SetUp();
    login();
    ASSERT_EQ(byoc({"env", "create", "a", "--cloud", "external", "--cidr", "10.3.0.0/16"}).code, 0);
    RunResult minted =
        byoc({"token", "create", "--role", "operator", "--subject", "eve@vendor.example", "-o", "json"});
    ASSERT_EQ(minted.code, 0) << minted.err;
    operator_ = {{"BYOC_TOKEN", parse_json(minted.out).value("token", "")}};
  }

  // Runs SQL on the server's own database (as someone with the disk would).
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data_ / "byoc.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::string log_key() { return "audit/environment/" + env_json("a").value("id", ""); }

  // verify must fail with one line naming `code`'s words.
  void expect_refused(const RunResult& r, const std::string& words) {
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_EQ(r.err_lines(), 1u) << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
  }

  std::map<std::string, std::string> operator_;
};

// A verifier key with the plane's key name but another key.
std::string access_key_of_a_stranger() {
  return access::note::format_verifier(access::note::verifier_of(access::note::make_signer("byoc-audit", crypto::random_bytes(32))));
}

TEST_F(AuditCliTest, TheLogNamesWhoDidWhatAndVerifiesAsItGrows) {
  RunResult denied = byoc({"env", "delete", "a"}, operator_);
  EXPECT_EQ(denied.code, 1);
  RunResult listed = byoc({"audit", "list", "--env", "a", "-o", "json"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  json items = parse_json(listed.out)["items"];
  ASSERT_EQ(items.size(), 2u) << listed.out;
  EXPECT_EQ(items[0]["entry"]["action"], "environment.create");
  EXPECT_EQ(items[1]["entry"]["action"], "environment.delete");
  EXPECT_EQ(items[1]["entry"]["outcome"], "denied");
  EXPECT_EQ(items[1]["entry"]["actor"]["subject"], "eve@vendor.example");
  RunResult table = byoc({"audit", "list", "--env", "a"});
  EXPECT_NE(table.out.find("eve@vendor.example"), std::string::npos) << table.out;

  fs::path kept = root_.path() / "kept.checkpoint";
  RunResult first = byoc({"audit", "verify", "--env", "a", "--save-checkpoint", kept.string()});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("verified 2 entries"), std::string::npos) << first.out;
  EXPECT_EQ(file_mode(kept), 0600u);

  ASSERT_EQ(byoc({"service", "create", "s1", "--env", "a"}).code, 0);
  RunResult grown = byoc({"audit", "verify", "--env", "a", "--checkpoint", kept.string(), "-o", "json"});
  ASSERT_EQ(grown.code, 0) << grown.err;
  json result = parse_json(grown.out);
  EXPECT_EQ(result["size"], 3);
  EXPECT_EQ(result["extends"]["size"], 2);

  // The key the server names is the one its checkpoints verify with; another is refused.
  std::string key = result["verifier_key"];
  EXPECT_EQ(byoc({"audit", "verify", "--env", "a", "--key", key}).code, 0);
  std::string stranger = access_key_of_a_stranger();
  expect_refused(byoc({"audit", "verify", "--env", "a", "--key", stranger}), "no signature by a known key");

  RunResult plane = byoc({"audit", "verify", "--plane"});
  EXPECT_EQ(plane.code, 0) << plane.err;
  RunResult plane_list = byoc({"audit", "list", "--plane", "-o", "json"});
  EXPECT_NE(plane_list.out.find("token.create"), std::string::npos) << plane_list.out;
}

TEST_F(AuditCliTest, AnExportVerifiesOfflineAndEveryEditOfItIsCaught) {
  ASSERT_EQ(byoc({"service", "create", "s2", "--env", "a"}).code, 0);
  ASSERT_EQ(byoc({"service", "create", "s3", "--env", "a"}).code, 0);
  fs::path exported = root_.path() / "a.json";
  ASSERT_EQ(byoc({"audit", "export", "--env", "a", "--out", exported.string()}).code, 0);
  EXPECT_EQ(file_mode(exported), 0600u);
  RunResult offline = byoc({"audit", "verify", "--file", exported.string()});
  ASSERT_EQ(offline.code, 0) << offline.err;
  EXPECT_NE(offline.out.find("verified 3 entries"), std::string::npos) << offline.out;

  json original = parse_json(read_text(exported));
  auto verify_edit = [&](const std::function<void(json&)>& edit, const std::string& words) {
    json copy = original;
    edit(copy);
    fs::path edited = root_.path() / "edited.json";
    files::write_atomic(edited, copy.dump(), 0600);
    expect_refused(byoc({"audit", "verify", "--file", edited.string()}), words);
  };
  verify_edit(
      [](json& e) {
        std::string bytes = *crypto::base64_decode(e["entries"][1].get<std::string>());
        bytes[bytes.find("service.create") + 1] ^= 0x01;
        e["entries"][1] = crypto::base64(bytes);
      },
      "do not hash to the checkpoint's root");
  verify_edit([](json& e) { e["entries"].erase(2); }, "the checkpoint counts 3 entries, the log has 2");
  verify_edit([](json& e) { std::swap(e["entries"][1], e["entries"][2]); }, "do not hash to the checkpoint's root");
}

// The plane's operator rewrites its own database while the server is down
// and the server, started again, signs whatever it finds: alone, such a log
// verifies (it is a log, freshly signed) — against a checkpoint kept from
// before, each rewrite is caught.
TEST_F(AuditCliTest, HistoryRewrittenInTheServersDatabaseIsCaughtAgainstAKeptCheckpoint) {
  ASSERT_EQ(byoc({"service", "create", "s4", "--env", "a"}).code, 0);
  ASSERT_EQ(byoc({"service", "create", "s5", "--env", "a"}).code, 0);
  fs::path kept = root_.path() / "kept.checkpoint";
  ASSERT_EQ(byoc({"audit", "verify", "--env", "a", "--save-checkpoint", kept.string()}).code, 0);
  const std::string key = log_key();
  const std::string where = " WHERE key = '" + key + "'";
  auto rewritten = [&](const std::string& sql, const std::string& words) {
    server_->stop(std::chrono::seconds(90));
    tamper("BEGIN; " + sql + "; COMMIT");
    start_server();
    login();
    RunResult alone = byoc({"audit", "verify", "--env", "a"});
    EXPECT_EQ(alone.code, 0) << "a re-signed log verifies alone: " << alone.err;
    expect_refused(byoc({"audit", "verify", "--env", "a", "--checkpoint", kept.string()}), words);
  };
  const std::string kForked = "entries are not those of the checkpoint kept earlier";
  const std::string one = " AND idx = 1";
  rewritten("UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'service.create', 'service.delete') AS BLOB)" + where + one,
            kForked);
  rewritten("UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'service.delete', 'service.create') AS BLOB)" + where + one +
                "; UPDATE log_entries SET idx = -1" + where + one + "; UPDATE log_entries SET idx = 1" + where +
                " AND idx = 2; UPDATE log_entries SET idx = 2" + where + " AND idx = -1",
            kForked);
  rewritten("UPDATE log_entries SET idx = -1" + where + one + "; UPDATE log_entries SET idx = 1" + where +
                " AND idx = 2; UPDATE log_entries SET idx = 2" + where + " AND idx = -1; DELETE FROM log_entries" +
                where + " AND idx = 2; UPDATE log_heads SET size = 2" + where,
            "fewer than the 3 of a checkpoint kept earlier");
}

}  // namespace
}  // namespace byoc::e2e
