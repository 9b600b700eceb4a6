// The agent keeps the audit log's checkpoints and checks each new one
// against the last: signed with the pinned key, of this environment's log,
// and a consistent extension (RFC 6962). A fork, a rollback, another key or
// another log turns it inconsistent — for good, across restarts.
#include "agent/audit_checkpoints.h"

#include <gtest/gtest.h>

#include "access/audit_verify.h"
#include "access/signed_note.h"
#include "base/crypto.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {

const std::string kEnv = "env-0123456789abcdef";

class AuditCheckpointsTest : public ::testing::Test {
 protected:
  // The signed checkpoint of the first `n` entries of `log`, and the proof from `from` entries.
  std::string note(const std::vector<std::string>& log, size_t n, const access::note::Signer& by) {
    std::vector<access::merkle::Hash> leaves;
    for (size_t i = 0; i < n; ++i) leaves.push_back(access::merkle::leaf_hash(log[i]));
    access::Checkpoint c{access::environment_log_origin(access::note::verifier_of(by), kEnv), n,
                         access::merkle::root(leaves)};
    return access::sign_checkpoint(c, by);
  }
  std::vector<access::merkle::Hash> proof(const std::vector<std::string>& log, size_t from, size_t to) {
    std::vector<access::merkle::Hash> leaves;
    for (const auto& e : log) leaves.push_back(access::merkle::leaf_hash(e));
    return from == 0 || from == to ? std::vector<access::merkle::Hash>{}
                                   : access::merkle::consistency_proof(leaves, from, to);
  }
  AuditCheckpoints fresh() {
    AuditCheckpoints a(dir.path(), kEnv);
    a.offer_key(key());
    return a;
  }
  std::string key() { return access::note::format_verifier(access::note::verifier_of(plane)); }

  testing::TempDir dir;
  access::note::Signer plane = access::note::make_signer("byoc-audit", crypto::random_bytes(32));
  std::vector<std::string> log = {"e0", "e1", "e2", "e3", "e4", "e5", "e6"};
};

TEST_F(AuditCheckpointsTest, AGrowingLogIsAcceptedAndEveryCheckpointKept) {
  auto a = fresh();
  EXPECT_TRUE(a.accept(note(log, 3, plane), {}));
  EXPECT_EQ(a.kept_size(), 3u);
  EXPECT_TRUE(a.accept(note(log, 3, plane), {}));  // the same again
  EXPECT_TRUE(a.accept(note(log, 7, plane), proof(log, 3, 7)));
  EXPECT_TRUE(a.consistent());
  AuditCheckpoints again(dir.path(), kEnv);  // after a restart
  EXPECT_EQ(again.kept_size(), 7u);
  EXPECT_TRUE(again.consistent());
  EXPECT_TRUE(again.accept(note(log, 7, plane), {}));
}

TEST_F(AuditCheckpointsTest, AForkIsCaughtAndStaysCaughtAcrossRestarts) {
  auto a = fresh();
  ASSERT_TRUE(a.accept(note(log, 5, plane), {}));
  std::vector<std::string> forked = log;
  forked[2] = "e2, rewritten";
  EXPECT_FALSE(a.accept(note(forked, 5, plane), {}));
  EXPECT_EQ(a.problem(), "forked");
  EXPECT_FALSE(a.accept(note(log, 7, plane), proof(log, 5, 7))) << "inconsistent stays so";
  AuditCheckpoints again(dir.path(), kEnv);
  EXPECT_FALSE(again.consistent());
}

TEST_F(AuditCheckpointsTest, AForkHiddenBehindALongerTreeFailsItsProof) {
  auto a = fresh();
  ASSERT_TRUE(a.accept(note(log, 4, plane), {}));
  std::vector<std::string> forked = log;
  forked[1] = "e1, rewritten";
  // The plane's best: the honest proof shape for the rewritten tree.
  EXPECT_FALSE(a.accept(note(forked, 7, plane), proof(forked, 4, 7)));
  EXPECT_EQ(a.problem(), "forked");
}

TEST_F(AuditCheckpointsTest, ARollbackIsCaught) {
  auto a = fresh();
  ASSERT_TRUE(a.accept(note(log, 6, plane), {}));
  EXPECT_FALSE(a.accept(note(log, 5, plane), {}));
  EXPECT_EQ(a.problem(), "rolled_back");
}

TEST_F(AuditCheckpointsTest, AnotherKeyOrAnotherLogIsRefused) {
  auto other = access::note::make_signer("byoc-audit", crypto::random_bytes(32));
  auto a = fresh();
  EXPECT_FALSE(a.accept(note(log, 3, other), {}));
  EXPECT_EQ(a.problem(), "unverified_note");

  testing::TempDir second;
  AuditCheckpoints b(second.path(), "env-ffffffffffffffff");
  b.offer_key(key());
  EXPECT_FALSE(b.accept(note(log, 3, plane), {}));
  EXPECT_EQ(b.problem(), "wrong_origin");

  testing::TempDir third;
  AuditCheckpoints c(third.path(), kEnv);
  c.offer_key(key());
  c.offer_key(access::note::format_verifier(access::note::verifier_of(other)));
  EXPECT_EQ(c.problem(), "key_changed") << "a pinned key is never replaced";
}

}  // namespace
}  // namespace byoc::agent
