// Certificate renewal against a real server: the agent's own join and
// renewal code, the server's POST /v1/agent/renew, and which certificates a
// sync is accepted with at each step.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../server/server_process.h"
#include "external_agent.h"
#include "agent/join.h"
#include "agent/renewal.h"
#include "agent/state_layout.h"
#include "agent/sync_client.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/process.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
namespace fs = std::filesystem;

class RenewalWithServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    first_ = agent_loop::join_external_agent(server_, "r1", "10.41.0.0/16", state_);
  }

  // 200 when a sync with `id` is accepted, 401 when refused.
  int sync_with(const AgentIdentity& id) {
    model::SyncRequest report;
    report.known_revision = 0;  // older than any revision: answered at once
    report.seq = ++seq_;
    SyncClient client(server_.url(), id, nullptr);
    try {
      client.sync(report);
      return 200;
    } catch (const Error& e) {
      return e.kind() == ErrorKind::kUnauthenticated ? 401 : 0;
    }
  }

  static std::string serial(const AgentIdentity& id) { return crypto::inspect(id.certificate_pem).serial_hex; }

  testing::TempDir scratch_;
  test::ServerProcess server_{scratch_.path(), proc::pick_free_port()};
  fs::path state_ = scratch_.path() / "agent";
  AgentIdentity first_;
  int64_t seq_ = 0;
};

TEST_F(RenewalWithServer, TheReplacedCertificateWorksUntilTheNewOneIsUsed) {
  ASSERT_EQ(sync_with(first_), 200);
  AgentIdentity second = renew_certificate(state_, server_.url(), first_, nullptr);
  EXPECT_NE(serial(second), serial(first_));
  EXPECT_NE(second.key_pem, first_.key_pem);
  EXPECT_EQ(crypto::inspect(second.certificate_pem).common_name, crypto::inspect(first_.certificate_pem).common_name);
  // Saved: the new pair in place, nothing left over, the key private.
  EXPECT_EQ(files::read(state_ / layout::kCertificate), second.certificate_pem);
  EXPECT_EQ(files::read(state_ / layout::kKey), second.key_pem);
  EXPECT_EQ(fs::status(state_ / layout::kKey).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(state_ / (std::string(layout::kKey) + ".next")));
  EXPECT_FALSE(fs::exists(state_ / (std::string(layout::kCertificate) + ".next")));
  // A restarted agent loads the new pair.
  AgentIdentity loaded = load_or_join(state_, server_.url(), "");
  EXPECT_EQ(loaded.certificate_pem, second.certificate_pem);

  // Until the new certificate is used, the old one still works...
  EXPECT_EQ(sync_with(first_), 200);
  EXPECT_EQ(sync_with(second), 200);
  // ...and from then on it doesn't.
  EXPECT_EQ(sync_with(first_), 401);
  files::ensure_dir(scratch_.path() / "other", 0700);
  try {
    renew_certificate(scratch_.path() / "other", server_.url(), first_, nullptr);
    ADD_FAILURE() << "a renewal with the revoked certificate was granted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnauthenticated) << e.what();
  }
  EXPECT_FALSE(fs::exists(scratch_.path() / "other" / (std::string(layout::kKey) + ".next")))
      << "a refused renewal leaves no key behind";
  EXPECT_EQ(sync_with(second), 200);
}

TEST_F(RenewalWithServer, AnAgentThatLostTheAnswerRenewsAgainWithTheOldCertificate) {
  // The server answered, the agent crashed before saving: it still holds the
  // first pair and renews again with it.
  fs::path lost = scratch_.path() / "lost";
  files::ensure_dir(lost, 0700);
  AgentIdentity never_saved = renew_certificate(lost, server_.url(), first_, nullptr);
  AgentIdentity second = renew_certificate(state_, server_.url(), first_, nullptr);
  EXPECT_EQ(sync_with(second), 200);
  EXPECT_EQ(sync_with(never_saved), 401) << "only the newest renewal counts";
  EXPECT_EQ(sync_with(first_), 401);
}

TEST_F(RenewalWithServer, ARejoinRevokesEveryEarlierCertificate) {
  AgentIdentity second = renew_certificate(state_, server_.url(), first_, nullptr);
  AgentIdentity rejoined = agent_loop::join_agent(server_, "r1", scratch_.path() / "rejoined");
  EXPECT_EQ(sync_with(first_), 401);
  EXPECT_EQ(sync_with(second), 401);
  EXPECT_EQ(sync_with(rejoined), 200);
}

}  // namespace
}  // namespace byoc::agent
