// Proves access/audit_verify.h catches every way a log can be tampered with:
// an honest log verifies against its signed checkpoint, and a changed,
// dropped or reordered entry, a rollback, a fork, or a checkpoint of another
// log is refused with its own code; an honest longer log extends a checkpoint
// kept earlier (by consistency proof and by its entries), and an empty kept
// checkpoint is extended by anything.
#include "access/audit_verify.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "base/crypto.h"
#include "base/error.h"
#include "testing/testing.h"

namespace byoc::access {
namespace {

using testing::error_code;

const std::string kOrigin = "byoc.audit/0123456789abcdef/environments/env-1";

std::vector<std::string> log_of(size_t n, size_t first = 0) {
  std::vector<std::string> entries;
  for (size_t i = first; i < first + n; ++i)
    entries.push_back(R"({"seq":)" + std::to_string(i) + R"(,"actor":"alice@example.com","action":"environment.update","field":"replicas","value":)" +
                      std::to_string(i * 3) + "}");
  return entries;
}

std::vector<merkle::Hash> leaves(const std::vector<std::string>& entries) {
  std::vector<merkle::Hash> out;
  for (const auto& e : entries) out.push_back(merkle::leaf_hash(e));
  return out;
}

class AuditVerify : public ::testing::Test {
 protected:
  note::Signer signer_ = note::make_signer("byoc-audit", crypto::random_bytes(32));
  note::Verifier key_ = note::verifier_of(signer_);
  std::vector<std::string> entries_ = log_of(10);

  // The signed checkpoint the plane would serve for `entries`.
  std::string signed_checkpoint(const std::vector<std::string>& entries, const std::string& origin = kOrigin) const {
    return sign_checkpoint({origin, entries.size(), merkle::root(leaves(entries))}, signer_);
  }
  // A checkpoint kept by a customer after verifying `entries`.
  Checkpoint kept(const std::vector<std::string>& entries) const {
    return verify_log(entries, signed_checkpoint(entries), key_, kOrigin);
  }
  std::string verify_error(const std::vector<std::string>& entries, const std::string& checkpoint_note) const {
    return error_code([&] { verify_log(entries, checkpoint_note, key_, kOrigin); });
  }
};

TEST_F(AuditVerify, HonestLogVerifies) {
  Checkpoint c = verify_log(entries_, signed_checkpoint(entries_), key_, kOrigin);
  EXPECT_EQ(c.origin, kOrigin);
  EXPECT_EQ(c.size, 10u);
  EXPECT_EQ(c.root, merkle::root(leaves(entries_)));
}

TEST_F(AuditVerify, FlippedByteInAnEntryIsRootMismatch) {
  std::string cp = signed_checkpoint(entries_);
  auto tampered = entries_;
  tampered[6][10] = static_cast<char>(tampered[6][10] ^ 0x01);
  EXPECT_EQ(verify_error(tampered, cp), "root_mismatch");
}

TEST_F(AuditVerify, DroppedLastEntryIsSizeMismatch) {
  std::string cp = signed_checkpoint(entries_);
  auto shorter = entries_;
  shorter.pop_back();
  EXPECT_EQ(verify_error(shorter, cp), "size_mismatch");
}

TEST_F(AuditVerify, SwappedEntriesAreRootMismatch) {
  std::string cp = signed_checkpoint(entries_);
  auto swapped = entries_;
  std::swap(swapped[2], swapped[7]);
  EXPECT_EQ(verify_error(swapped, cp), "root_mismatch");
}

TEST_F(AuditVerify, CheckpointOfAnotherLogIsWrongOrigin) {
  std::string other = signed_checkpoint(entries_, "byoc.audit/0123456789abcdef/environments/env-2");
  EXPECT_EQ(verify_error(entries_, other), "wrong_origin");

  Checkpoint mine = kept(entries_);
  Checkpoint theirs = mine;
  theirs.origin = "byoc.audit/0123456789abcdef/environments/env-2";
  EXPECT_EQ(error_code([&] { verify_extends(mine, theirs, {}); }), "wrong_origin");
}

TEST_F(AuditVerify, CheckpointSignedByAnotherKeyIsUnverified) {
  note::Signer other = note::make_signer("byoc-audit", crypto::random_bytes(32));
  std::string cp = sign_checkpoint({kOrigin, entries_.size(), merkle::root(leaves(entries_))}, other);
  EXPECT_EQ(verify_error(entries_, cp), "unverified_note");
}

TEST_F(AuditVerify, ShorterLogThanAKeptCheckpointIsRolledBack) {
  Checkpoint earlier = kept(entries_);
  // The plane drops the last entry and signs a fresh checkpoint: the log alone verifies...
  auto shorter = entries_;
  shorter.pop_back();
  Checkpoint later = verify_log(shorter, signed_checkpoint(shorter), key_, kOrigin);
  // ...but not against what the customer kept.
  EXPECT_EQ(error_code([&] { verify_extends(earlier, later, {}); }), "rolled_back");
  EXPECT_EQ(error_code([&] { verify_extends(earlier, later, merkle::consistency_proof(leaves(shorter), 1, 9)); }),
            "rolled_back");
  EXPECT_EQ(error_code([&] { verify_prefix(earlier, shorter); }), "rolled_back");
}

TEST_F(AuditVerify, ForkOfTheSameSizeIsForked) {
  Checkpoint earlier = kept(entries_);
  auto fork = entries_;
  fork[3] = R"({"seq":3,"actor":"mallory@example.com","action":"environment.delete"})";
  Checkpoint later = verify_log(fork, signed_checkpoint(fork), key_, kOrigin);  // signed too
  ASSERT_EQ(later.size, earlier.size);
  EXPECT_EQ(error_code([&] { verify_extends(earlier, later, merkle::consistency_proof(leaves(fork), 10, 10)); }),
            "forked");
  EXPECT_EQ(error_code([&] { verify_prefix(earlier, fork); }), "forked");
}

TEST_F(AuditVerify, LongerForkIsForked) {
  Checkpoint earlier = kept(entries_);
  auto fork = entries_;
  fork[3] = R"({"seq":3,"actor":"mallory@example.com","action":"environment.delete"})";
  for (auto& e : log_of(4, 10)) fork.push_back(e);
  Checkpoint later = verify_log(fork, signed_checkpoint(fork), key_, kOrigin);
  EXPECT_EQ(error_code([&] { verify_extends(earlier, later, merkle::consistency_proof(leaves(fork), 10, 14)); }),
            "forked");
  EXPECT_EQ(error_code([&] { verify_prefix(earlier, fork); }), "forked");
}

TEST_F(AuditVerify, HonestLongerLogExtendsTheKeptCheckpoint) {
  Checkpoint earlier = kept(entries_);
  auto longer = entries_;
  for (auto& e : log_of(5, 10)) longer.push_back(e);
  Checkpoint later = verify_log(longer, signed_checkpoint(longer), key_, kOrigin);
  auto proof = merkle::consistency_proof(leaves(longer), earlier.size, later.size);
  EXPECT_NO_THROW(verify_extends(earlier, later, proof));
  EXPECT_NO_THROW(verify_prefix(earlier, longer));
  // The same checkpoint extends itself, with an empty proof.
  EXPECT_NO_THROW(verify_extends(later, later, {}));
  EXPECT_NO_THROW(verify_prefix(later, longer));
  // A proof that was tampered with, or between other sizes, proves nothing.
  auto bad = proof;
  bad[0][0] = static_cast<char>(bad[0][0] ^ 0x80);
  EXPECT_EQ(error_code([&] { verify_extends(earlier, later, bad); }), "forked");
  EXPECT_EQ(error_code([&] { verify_extends(earlier, later, merkle::consistency_proof(leaves(longer), 9, 15)); }),
            "forked");
  EXPECT_EQ(error_code([&] { verify_extends(earlier, later, {}); }), "forked");
}

TEST_F(AuditVerify, EmptyKeptCheckpointIsExtendedByAnything) {
  Checkpoint empty = verify_log({}, signed_checkpoint({}), key_, kOrigin);
  EXPECT_EQ(empty.size, 0u);
  EXPECT_EQ(empty.root, merkle::empty_root());
  Checkpoint later = kept(entries_);
  EXPECT_NO_THROW(verify_extends(empty, later, {}));
  EXPECT_NO_THROW(verify_extends(empty, empty, {}));
  EXPECT_NO_THROW(verify_prefix(empty, entries_));
  EXPECT_NO_THROW(verify_prefix(empty, {}));
}

}  // namespace
}  // namespace byoc::access
