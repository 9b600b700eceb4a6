// The keys the servers of one plane share: copied once with --keys-from,
// never different, never in the store; session-ticket keys derived per day.
#include "server/identity.h"

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
    session_ticket_key(first, clock);
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

TEST_F(PlaneKeys, SessionTicketKeysAreTheSameOnEveryServerAndNewEachDay) {
  take_plane_keys(first, second);
  std::string today = session_ticket_key(first, clock);
  EXPECT_EQ(today.size(), 80u);
  EXPECT_EQ(session_ticket_key(second, clock), today);
  EXPECT_EQ(mode(first / "session-ticket.key"), 0600);
  clock.advance(std::chrono::hours(24));
  EXPECT_NE(session_ticket_key(first, clock), today);
  EXPECT_EQ(session_ticket_key(first, clock), session_ticket_key(second, clock));
}

}  // namespace
}  // namespace byoc::server
