// The keys the servers of one plane share: copied once with --keys-from,
// never different, never in the store; session-ticket keys derived per day.
#include "server/identity.h"
#include "server/session_tickets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/files.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::server {
namespace {
namespace fs = std::filesystem;

int mode(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

class PlaneKeys : public ::testing::Test {
 protected:
  PlaneKeys() {
    fs::create_directories(first);
    fs::create_directories(second);
    load_or_create_identity(first, "", "", clock);
    SessionTicketKeys(first / "session-ticket.key", clock);
    store = test_store.open();
    ensure_admin_token(first, *store, clock);
  }
  testing::TempDir dir;
  fs::path first = dir.path() / "a";
  fs::path second = dir.path() / "b";
  ManualClock clock;
  testing::TestStore test_store{dir.path()};
  std::unique_ptr<store::Store> store;
};

TEST_F(PlaneKeys, ASecondServerTakesThemPrivateAndIssuesItsOwnServingCertificate) {
  take_plane_keys(first, second);
  for (const char* name : kPlaneKeyFiles) {
    EXPECT_EQ(files::read(first / name), files::read(second / name)) << name;
    EXPECT_EQ(mode(second / name), 0600) << name;
  }
  ServerIdentity a = load_or_create_identity(first, "", "", clock);
  ServerIdentity b = load_or_create_identity(second, "", "", clock);
  EXPECT_EQ(a.ca_sha256_hex, b.ca_sha256_hex);  // what join tokens and the CLI pin
  EXPECT_EQ(a.agent_ca.cert_pem, b.agent_ca.cert_pem);
  EXPECT_EQ(a.audit_log_key_pem, b.audit_log_key_pem);  // one signer of the plane's checkpoints
  EXPECT_NE(a.audit_log_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_NE(a.serving_key_pem, b.serving_key_pem);
  EXPECT_TRUE(crypto::verify_issued_by(b.serving_chain_pem, a.ca_pem, clock.system_time()));
  // The admin token came along: no second one is made.
  ensure_admin_token(second, *store, clock);
  size_t tokens = 0;
  store->read([&](store::Transaction& tx) { tokens = tx.api_tokens().list().size(); });
  EXPECT_EQ(tokens, 1u);
  // Copying again is a no-op.
  EXPECT_NO_THROW(take_plane_keys(first, second));
}

TEST_F(PlaneKeys, ADataDirOfAnotherPlaneOrAnIncompleteSourceIsRefused) {
  load_or_create_identity(second, "", "", clock);  // a plane of its own
  try {
    take_plane_keys(first, second);
    FAIL() << "expected a conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
    EXPECT_EQ(e.field(), "keys-from");
  }
  fs::path empty = dir.path() / "empty";
  fs::create_directories(empty);
  fs::path third = dir.path() / "c";
  fs::create_directories(third);
  EXPECT_THROW(take_plane_keys(empty, third), Error);
  EXPECT_THROW(take_plane_keys(dir.path() / "missing", third), Error);
  EXPECT_FALSE(fs::exists(third / "ca.pem"));
}

TEST_F(PlaneKeys, AServerWithoutATokenFileOnAPlaneWithTokensMakesNone) {
  ensure_admin_token(second, *store, clock);
  EXPECT_FALSE(fs::exists(second / "admin.token"));
}

TEST_F(PlaneKeys, SessionTicketKeysAreTheSameOnEveryServerTurnDailyAndForgetThePast) {
  take_plane_keys(first, second);
  SessionTicketKeys a(first / "session-ticket.key", clock);
  SessionTicketKeys::Key monday = a.current();
  EXPECT_EQ(mode(first / "session-ticket.key"), 0600);
  std::string monday_file = files::read(first / "session-ticket.key");
  clock.advance(std::chrono::hours(24));
  SessionTicketKeys::Key tuesday = a.current();
  EXPECT_NE(tuesday, monday);
  // The second server meets its copy only now: it catches up to the same key.
  SessionTicketKeys b(second / "session-ticket.key", clock);
  EXPECT_EQ(b.current(), tuesday);
  // Yesterday's tickets still open (and are renewed); older ones don't.
  bool renew = false;
  ASSERT_TRUE(a.find(monday.name.data(), &renew));
  EXPECT_TRUE(renew);
  ASSERT_TRUE(a.find(tuesday.name.data(), &renew));
  EXPECT_FALSE(renew);
  clock.advance(std::chrono::hours(48));
  EXPECT_FALSE(a.find(monday.name.data(), &renew));
  EXPECT_EQ(a.current(), b.current());
  // The file moved on: Monday's secret is gone from it.
  std::string now_file = files::read(first / "session-ticket.key");
  EXPECT_NE(now_file, monday_file);
  EXPECT_EQ(now_file.find(monday_file.substr(monday_file.rfind('\n', monday_file.size() - 2) + 1)), std::string::npos);
}

TEST_F(PlaneKeys, AKeyFileOfAnEarlierVersionTurnsIntoTheSameSecretOnEveryServer) {
  std::string legacy = crypto::random_bytes(80);
  files::write_atomic(first / "old.key", legacy, 0600);
  files::write_atomic(second / "old.key", legacy, 0600);
  SessionTicketKeys a(first / "old.key", clock);
  clock.advance(std::chrono::hours(24 * 3));
  SessionTicketKeys b(second / "old.key", clock);  // met three days later
  EXPECT_EQ(a.current(), b.current());
}

}  // namespace
}  // namespace byoc::server
