// Proves access/signed_note.h reads and writes C2SP signed notes exactly as
// Go's golang.org/x/mod/sumdb/note does: its published keys and notes
// (vectors/signed-note/vectors.json) parse, sign byte for byte the same
// (Ed25519 is deterministic), open with the right names, and every malformed
// or badly signed note is refused with the right error code. Also the key
// name rules and the canonical base64 the format rests on.
#include "access/signed_note.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/error.h"
#include "testing/testing.h"

namespace byoc::access::note {
namespace {

using nlohmann::json;

const json& vectors() {
  static const json v = [] {
    std::ifstream in(byoc::testing::source_dir() / "tests" / "access" / "vectors" / "signed-note" / "vectors.json");
    return json::parse(in);
  }();
  return v;
}

std::string str(const char* key) { return vectors().at(key).get<std::string>(); }
std::string key_string(const char* who, const char* kind) {
  return vectors().at("keys").at(who).at(kind).get<std::string>();
}

using testing::error_code;

Verifier peter() { return parse_verifier(key_string("PeterNeumann", "verifier")); }
Verifier enoch() { return parse_verifier(key_string("EnochRoot", "verifier")); }
Signer peter_signer() { return parse_signer(key_string("PeterNeumann", "signer")); }

// ---- keys ----

TEST(SignedNote, ParsesTheVerifierKeysOfTheVectors) {
  Verifier p = peter();
  EXPECT_EQ(p.name, "PeterNeumann");
  EXPECT_EQ(p.key_hash, 0xc74f20a3u);
  EXPECT_EQ(p.public_key.size(), 32u);
  EXPECT_EQ(format_verifier(p), key_string("PeterNeumann", "verifier"));

  Verifier e = enoch();
  EXPECT_EQ(e.name, "EnochRoot");
  EXPECT_EQ(e.key_hash, 0xaf0cfe78u);
  EXPECT_EQ(e.public_key.size(), 32u);
  EXPECT_EQ(format_verifier(e), key_string("EnochRoot", "verifier"));
}

TEST(SignedNote, SignerKeyYieldsItsVerifierAndRoundTrips) {
  Signer s = peter_signer();
  EXPECT_EQ(s.name, "PeterNeumann");
  EXPECT_EQ(s.key_hash, 0xc74f20a3u);
  EXPECT_EQ(s.seed.size(), 32u);
  EXPECT_EQ(format_verifier(verifier_of(s)), key_string("PeterNeumann", "verifier"));
  EXPECT_EQ(format_signer(s), key_string("PeterNeumann", "signer"));
}

TEST(SignedNote, BadVerifierKeysAreRefused) {
  const auto& bad = vectors().at("bad_verifier_keys");
  ASSERT_FALSE(bad.empty());
  for (const auto& key : bad) {
    EXPECT_THROW(parse_verifier(key.get<std::string>()), Error) << key;
    EXPECT_EQ(error_code([&] { parse_verifier(key.get<std::string>()); }), "bad_key") << key;
  }
}

TEST(SignedNote, MalformedKeyTextsAreRefused) {
  std::string good = key_string("PeterNeumann", "verifier");
  for (const std::string& key : {
           std::string(""),
           std::string("PeterNeumann"),
           std::string("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),     // no name
           std::string("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),  // upper-case hash
           std::string("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),  // wrong hash
           good + "=",                                                                  // not base64
       })
    EXPECT_EQ(error_code([&] { parse_verifier(key); }), "bad_key") << key;
  // A verifier key is not a signer key.
  EXPECT_EQ(error_code([&] { parse_signer(good); }), "bad_key");
}

TEST(SignedNote, RandomSignerRoundTripsThroughItsTextForms) {
  Signer s = make_signer("test.example/key", crypto::random_bytes(32));
  Signer s2 = parse_signer(format_signer(s));
  EXPECT_EQ(s2.name, s.name);
  EXPECT_EQ(s2.key_hash, s.key_hash);
  EXPECT_EQ(s2.seed, s.seed);

  Verifier v = verifier_of(s);
  Verifier v2 = parse_verifier(format_verifier(v));
  EXPECT_EQ(v2.name, v.name);
  EXPECT_EQ(v2.key_hash, v.key_hash);
  EXPECT_EQ(v2.public_key, v.public_key);
  EXPECT_EQ(v.key_hash, key_hash(v.name, v.public_key));

  Opened opened = open(sign("hello\n", {s}), {v});
  EXPECT_EQ(opened.text, "hello\n");
  EXPECT_EQ(opened.verified_by, std::vector<std::string>{"test.example/key"});

  EXPECT_EQ(error_code([&] { make_signer("bad name", crypto::random_bytes(32)); }), "bad_key");
}

// The base64 of a key may hold '+', the separator of the text form: the form
// is split from the left (a name holds no '+'), as Go does.
TEST(SignedNote, KeysWhoseBase64HoldsAPlusParse) {
  int found = 0;
  for (int i = 0; found < 5 && i < 1000; ++i) {
    Signer s = make_signer("plus-test", crypto::sha256("seed " + std::to_string(i)));
    Verifier v = verifier_of(s);
    std::string verifier_text = format_verifier(v);
    std::string signer_text = format_signer(s);
    // NAME+HASH+KEY and PRIVATE+KEY+NAME+HASH+KEY: more '+' means the base64 has some.
    if (std::count(verifier_text.begin(), verifier_text.end(), '+') <= 2 &&
        std::count(signer_text.begin(), signer_text.end(), '+') <= 4)
      continue;
    ++found;
    EXPECT_EQ(parse_verifier(verifier_text).public_key, v.public_key) << verifier_text;
    EXPECT_EQ(parse_signer(signer_text).seed, s.seed) << signer_text;
  }
  EXPECT_EQ(found, 5);
}

TEST(SignedNote, KeyNameRules) {
  EXPECT_TRUE(valid_key_name("PeterNeumann"));
  EXPECT_TRUE(valid_key_name("example.com/log"));
  EXPECT_TRUE(valid_key_name("P\xC3\xA9ter"));  // non-ASCII, not a space
  EXPECT_FALSE(valid_key_name(""));
  EXPECT_FALSE(valid_key_name("a+b"));
  EXPECT_FALSE(valid_key_name("a b"));
  EXPECT_FALSE(valid_key_name("a\tb"));
  EXPECT_FALSE(valid_key_name("a\nb"));
  EXPECT_FALSE(valid_key_name("a\xC2\xA0" "b"));      // U+00A0 no-break space
  EXPECT_FALSE(valid_key_name("a\xE3\x80\x80" "b"));  // U+3000 ideographic space
  EXPECT_FALSE(valid_key_name("a\xFF" "b"));          // not UTF-8
}

// ---- signing and opening ----

TEST(SignedNote, SigningMatchesGoByteForByte) {
  EXPECT_EQ(sign(str("text"), {peter_signer()}), str("signed_by_peter"));
}

TEST(SignedNote, OpensANoteSignedByPeter) {
  Opened opened = open(str("signed_by_peter"), {peter()});
  EXPECT_EQ(opened.text, str("text"));
  EXPECT_EQ(opened.verified_by, std::vector<std::string>{"PeterNeumann"});
}

TEST(SignedNote, IgnoresSignaturesByUnknownKeys) {
  Opened opened = open(str("signed_by_both"), {peter()});
  EXPECT_EQ(opened.text, str("text"));
  EXPECT_EQ(opened.verified_by, std::vector<std::string>{"PeterNeumann"});
}

TEST(SignedNote, ListsEveryKnownKeyThatSigned) {
  Opened opened = open(str("signed_by_both"), {peter(), enoch()});
  EXPECT_EQ(opened.text, str("text"));
  EXPECT_EQ(opened.verified_by, (std::vector<std::string>{"PeterNeumann", "EnochRoot"}));
}

TEST(SignedNote, MalformedNotesAreRefused) {
  const auto& notes = vectors().at("malformed_notes");
  ASSERT_FALSE(notes.empty());
  for (const auto& n : notes) {
    std::string note = n.get<std::string>();
    EXPECT_EQ(error_code([&] { open(note, {peter()}); }), "malformed_note") << note;
  }
}

TEST(SignedNote, InvalidSignatureIsRefused) {
  EXPECT_EQ(error_code([&] { open(str("invalid_signature_note"), {peter()}); }), "invalid_signature");
}

TEST(SignedNote, NoteSignedOnlyByUnknownKeysIsUnverified) {
  Signer stranger = make_signer("Stranger", crypto::random_bytes(32));
  EXPECT_EQ(error_code([&] { open(sign(str("text"), {stranger}), {peter()}); }), "unverified_note");
  // The note with Enoch's signature alone: it opens for Enoch, not for Peter.
  std::string only_enoch = str("signed_by_both");
  only_enoch.erase(only_enoch.find("\xE2\x80\x94 PeterNeumann"),
                   only_enoch.find("\xE2\x80\x94 EnochRoot") - only_enoch.find("\xE2\x80\x94 PeterNeumann"));
  EXPECT_EQ(open(only_enoch, {enoch()}).verified_by, std::vector<std::string>{"EnochRoot"});
  EXPECT_EQ(error_code([&] { open(only_enoch, {peter()}); }), "unverified_note");
}

TEST(SignedNote, AKeyWithTheRightNameButAnotherKeyDoesNotVerify) {
  // Same name, another key: its hash differs, so the signature is not ours to judge.
  Verifier impostor = verifier_of(make_signer("PeterNeumann", crypto::random_bytes(32)));
  EXPECT_EQ(error_code([&] { open(str("signed_by_peter"), {impostor}); }), "unverified_note");
}

TEST(SignedNote, ChangedTextIsAnInvalidSignature) {
  std::string note = str("signed_by_peter");
  note[0] = 'i';
  EXPECT_EQ(error_code([&] { open(note, {peter()}); }), "invalid_signature");
}

TEST(SignedNote, SignRefusesTextsThatCannotBeNotes) {
  Signer s = peter_signer();
  EXPECT_EQ(error_code([&] { sign("no final newline", {s}); }), "malformed_note");
  EXPECT_EQ(error_code([&] { sign("", {s}); }), "malformed_note");
  EXPECT_EQ(error_code([&] { sign("a\n\nb\n", {s}); }), "malformed_note");
  EXPECT_EQ(error_code([&] { sign("a\x01\n", {s}); }), "malformed_note");
}

// ---- canonical base64 ----

TEST(SignedNote, Base64DecodeAcceptsOnlyCanonicalText) {
  EXPECT_EQ(crypto::base64_decode("YQ=="), std::optional<std::string>("a"));
  EXPECT_EQ(crypto::base64_decode(""), std::optional<std::string>(""));
  EXPECT_EQ(crypto::base64_decode("YWJj"), std::optional<std::string>("abc"));
  EXPECT_EQ(crypto::base64_decode("YQ"), std::nullopt);     // no padding
  EXPECT_EQ(crypto::base64_decode("YR=="), std::nullopt);   // stray low bits
  EXPECT_EQ(crypto::base64_decode(" YQ=="), std::nullopt);  // whitespace
  EXPECT_EQ(crypto::base64_decode("YQ==\n"), std::nullopt);
  EXPECT_EQ(crypto::base64_decode("Y Q=="), std::nullopt);
  EXPECT_EQ(crypto::base64_decode("YQ-_"), std::nullopt);  // base64url alphabet
  std::string bytes = crypto::random_bytes(67);
  EXPECT_EQ(crypto::base64_decode(crypto::base64(bytes)), std::optional<std::string>(bytes));
}

}  // namespace
}  // namespace byoc::access::note
