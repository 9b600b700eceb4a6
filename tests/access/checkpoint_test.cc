// Proves access/checkpoint.h writes and reads C2SP tlog-checkpoints: the text
// round-trips, every malformed text is refused as "malformed_checkpoint" (one
// text per checkpoint: no leading zeros, no signs, a 32-byte root, a final
// newline, no empty extension line) while extension lines are accepted, and a
// signed checkpoint opens only with its key and for its own origin.
#include "access/checkpoint.h"

#include <gtest/gtest.h>

#include <string>

#include "access/merkle.h"
#include "base/crypto.h"
#include "base/error.h"
#include "testing/testing.h"

namespace byoc::access {
namespace {

using testing::error_code;

const std::string kOrigin = "example.com/log";

Checkpoint sample() { return {kOrigin, 42, merkle::leaf_hash("root")}; }
std::string root_b64() { return crypto::base64(sample().root); }

std::string parse_error(const std::string& text) {
  return error_code([&] { parse_checkpoint_text(text); });
}

TEST(Checkpoint, TextIsOriginSizeAndRootOnThreeLines) {
  EXPECT_EQ(checkpoint_text(sample()), kOrigin + "\n42\n" + root_b64() + "\n");
}

TEST(Checkpoint, TextRoundTrips) {
  for (const Checkpoint& c : {sample(), Checkpoint{"o", 0, merkle::empty_root()},
                              Checkpoint{"byoc.audit/0123456789abcdef/plane", UINT64_MAX, merkle::leaf_hash("x")}})
    EXPECT_EQ(parse_checkpoint_text(checkpoint_text(c)), c) << checkpoint_text(c);
}

TEST(Checkpoint, ExtensionLinesAreAcceptedAndIgnored) {
  std::string text = checkpoint_text(sample()) + "extension one\nanother: 2\n";
  EXPECT_EQ(parse_checkpoint_text(text), sample());
}

TEST(Checkpoint, MalformedTextsAreRefused) {
  const std::string r = root_b64();
  EXPECT_EQ(parse_error(""), "malformed_checkpoint");
  EXPECT_EQ(parse_error("\n42\n" + r + "\n"), "malformed_checkpoint");               // empty origin
  EXPECT_EQ(parse_error(kOrigin + "\n01\n" + r + "\n"), "malformed_checkpoint");     // leading zero
  EXPECT_EQ(parse_error(kOrigin + "\n-1\n" + r + "\n"), "malformed_checkpoint");     // sign
  EXPECT_EQ(parse_error(kOrigin + "\n+1\n" + r + "\n"), "malformed_checkpoint");
  EXPECT_EQ(parse_error(kOrigin + "\n0x10\n" + r + "\n"), "malformed_checkpoint");   // not decimal
  EXPECT_EQ(parse_error(kOrigin + "\nten\n" + r + "\n"), "malformed_checkpoint");
  EXPECT_EQ(parse_error(kOrigin + "\n 1\n" + r + "\n"), "malformed_checkpoint");
  EXPECT_EQ(parse_error(kOrigin + "\n1 \n" + r + "\n"), "malformed_checkpoint");
  EXPECT_EQ(parse_error(kOrigin + "\n\n" + r + "\n"), "malformed_checkpoint");       // no size
  EXPECT_EQ(parse_error(kOrigin + "\n18446744073709551616\n" + r + "\n"), "malformed_checkpoint");  // > 2^64-1
  EXPECT_EQ(parse_error(kOrigin + "\n1\n" + crypto::base64(std::string(31, 'x')) + "\n"),
            "malformed_checkpoint");  // 31-byte root
  EXPECT_EQ(parse_error(kOrigin + "\n1\n" + crypto::base64(std::string(33, 'x')) + "\n"),
            "malformed_checkpoint");  // 33-byte root
  EXPECT_EQ(parse_error(kOrigin + "\n1\n" + r.substr(0, r.size() - 1) + "\n"), "malformed_checkpoint");  // not base64
  EXPECT_EQ(parse_error(kOrigin + "\n1\n" + r), "malformed_checkpoint");             // no final newline
  EXPECT_EQ(parse_error(kOrigin + "\n1\n"), "malformed_checkpoint");                 // no root
  EXPECT_EQ(parse_error(kOrigin + "\n1\n" + r + "\n\n"), "malformed_checkpoint");    // empty extension line
  EXPECT_EQ(parse_error(kOrigin + "\n1\n" + r + "\next\n\n"), "malformed_checkpoint");
  EXPECT_EQ(parse_error(kOrigin + "\n1\n" + r + "\next"), "malformed_checkpoint");   // extension without newline
}

TEST(Checkpoint, SignedCheckpointOpensForItsOrigin) {
  note::Signer signer = note::make_signer("test-log", crypto::random_bytes(32));
  std::string signed_note = sign_checkpoint(sample(), signer);
  EXPECT_TRUE(signed_note.starts_with(checkpoint_text(sample()) + "\n\xE2\x80\x94 test-log "));
  EXPECT_EQ(open_checkpoint(signed_note, note::verifier_of(signer), kOrigin), sample());
}

TEST(Checkpoint, AnotherOriginIsRefused) {
  note::Signer signer = note::make_signer("test-log", crypto::random_bytes(32));
  std::string signed_note = sign_checkpoint(sample(), signer);
  EXPECT_EQ(error_code([&] { open_checkpoint(signed_note, note::verifier_of(signer), "example.com/other"); }),
            "wrong_origin");
}

TEST(Checkpoint, AnotherKeyIsRefused) {
  note::Signer signer = note::make_signer("test-log", crypto::random_bytes(32));
  note::Signer other = note::make_signer("test-log", crypto::random_bytes(32));
  std::string signed_note = sign_checkpoint(sample(), signer);
  EXPECT_THROW(open_checkpoint(signed_note, note::verifier_of(other), kOrigin), Error);
  EXPECT_EQ(error_code([&] { open_checkpoint(signed_note, note::verifier_of(other), kOrigin); }), "unverified_note");
}

TEST(Checkpoint, SignedNoteWhoseTextIsNotACheckpointIsRefused) {
  note::Signer signer = note::make_signer("test-log", crypto::random_bytes(32));
  std::string signed_note = note::sign(kOrigin + "\n01\n" + root_b64() + "\n", {signer});
  EXPECT_EQ(error_code([&] { open_checkpoint(signed_note, note::verifier_of(signer), kOrigin); }),
            "malformed_checkpoint");
}

}  // namespace
}  // namespace byoc::access
