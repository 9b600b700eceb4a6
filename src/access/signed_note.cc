#include "access/signed_note.h"

#include <cstdio>
#include <set>

#include "base/crypto.h"
#include "base/error.h"
#include "base/utf8.h"

namespace byoc::access::note {
namespace {

constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // "— " (U+2014, space)
constexpr char kEd25519 = 0x01;
constexpr size_t kMaxSignatures = 100;

[[noreturn]] void bad_key(const std::string& why) { throw Error::Invalid("bad_key", why); }
[[noreturn]] void malformed(const std::string& why) { throw Error::Invalid("malformed_note", "malformed note: " + why); }

// The code points of valid UTF-8 `s`, one at a time.
template <typename F>
void each_code_point(std::string_view s, F&& f) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    f(cp);
    i += n;
  }
}

// Unicode's White_Space property, as Go's unicode.IsSpace reads it.
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

uint32_t parse_hash_hex(std::string_view text) {
  if (text.size() != 8) bad_key("the key hash is 8 hex digits");
  uint32_t out = 0;
  for (char c : text) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) bad_key("the key hash is 8 lowercase hex digits");
    out = out << 4 | static_cast<uint32_t>(v);
  }
  return out;
}

std::string hash_hex(uint32_t hash) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", hash);
  return buf;
}

// "<name>+<hash>+<base64 key>" → its three parts.
struct KeyParts {
  std::string name;
  uint32_t hash = 0;
  std::string key;  // 32 bytes
};

KeyParts parse_key_parts(std::string_view text) {
  // Split from the left, as Go's note package does: a name holds no '+', the
  // base64 key may.
  size_t first = text.find('+');
  if (first == std::string_view::npos) bad_key("a key is NAME+HASH+KEY");
  size_t second = text.find('+', first + 1);
  if (second == std::string_view::npos) bad_key("a key is NAME+HASH+KEY");
  KeyParts parts;
  parts.name = std::string(text.substr(0, first));
  if (!valid_key_name(parts.name)) bad_key("the key name is empty or holds a space or '+'");
  parts.hash = parse_hash_hex(text.substr(first + 1, second - first - 1));
  auto key = crypto::base64_decode(text.substr(second + 1));
  if (!key) bad_key("the key is not base64");
  if (key->size() != 33 || (*key)[0] != kEd25519) bad_key("not an Ed25519 key (algorithm 1, 32 bytes)");
  parts.key = key->substr(1);
  return parts;
}

uint32_t read_be32(std::string_view b) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[0])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[2])) << 8 | static_cast<unsigned char>(b[3]);
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// The rules every note text (and every note) meets: UTF-8, no control
// character but newline.
void check_text(std::string_view text) {
  if (!utf8::valid(text)) malformed("not UTF-8");
  for (char c : text)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7F) malformed("a control character");
}

}  // namespace

bool valid_key_name(std::string_view name) {
  if (name.empty() || !utf8::valid(name) || name.find('+') != std::string_view::npos) return false;
  bool ok = true;
  each_code_point(name, [&](char32_t c) { ok = ok && !is_space(c) && c >= 0x20 && c != 0x7F; });
  return ok;
}

uint32_t key_hash(std::string_view name, std::string_view public_key) {
  std::string data(name);
  data += '\n';
  data += kEd25519;
  data.append(public_key);
  return read_be32(crypto::sha256(data));
}

Verifier parse_verifier(std::string_view text) {
  KeyParts parts = parse_key_parts(text);
  if (key_hash(parts.name, parts.key) != parts.hash) bad_key("the key hash does not match the key");
  return {parts.name, parts.hash, parts.key};
}

Signer parse_signer(std::string_view text) {
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (!text.starts_with(kPrefix)) bad_key("a signer key starts with PRIVATE+KEY+");
  KeyParts parts = parse_key_parts(text.substr(kPrefix.size()));
  if (key_hash(parts.name, crypto::ed25519_public_key(parts.key)) != parts.hash)
    bad_key("the key hash does not match the key");
  return {parts.name, parts.hash, parts.key};
}

std::string format_verifier(const Verifier& v) {
  return v.name + "+" + hash_hex(v.key_hash) + "+" + crypto::base64(std::string(1, kEd25519) + v.public_key);
}

std::string format_signer(const Signer& s) {
  return "PRIVATE+KEY+" + s.name + "+" + hash_hex(s.key_hash) + "+" + crypto::base64(std::string(1, kEd25519) + s.seed);
}

Signer make_signer(std::string_view name, std::string_view seed) {
  if (!valid_key_name(name)) bad_key("the key name is empty or holds a space or '+'");
  std::string public_key = crypto::ed25519_public_key(seed);
  return {std::string(name), key_hash(name, public_key), std::string(seed)};
}

Verifier verifier_of(const Signer& s) { return {s.name, s.key_hash, crypto::ed25519_public_key(s.seed)}; }

std::string sign(std::string_view text, const std::vector<Signer>& signers) {
  check_text(text);
  if (text.empty() || text.back() != '\n') malformed("the text does not end in a newline");
  if (text.find("\n\n") != std::string_view::npos) malformed("the text holds a blank line");
  std::string out(text);
  out += '\n';
  for (const Signer& s : signers) {
    std::string signature = be32(s.key_hash) + crypto::ed25519_sign(s.seed, text);
    out += std::string(kSignaturePrefix) + s.name + " " + crypto::base64(signature) + "\n";
  }
  return out;
}

Opened open(std::string_view note, const std::vector<Verifier>& known) {
  check_text(note);
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) malformed("no blank line before the signatures");
  Opened opened;
  opened.text = std::string(note.substr(0, split + 1));
  std::string_view signatures = note.substr(split + 2);
  if (signatures.empty() || signatures.back() != '\n') malformed("the signatures do not end in a newline");
  std::set<std::pair<std::string, uint32_t>> seen;
  size_t count = 0;
  while (!signatures.empty()) {
    size_t end = signatures.find('\n');
    std::string_view line = signatures.substr(0, end);
    signatures.remove_prefix(end + 1);
    if (!line.starts_with(kSignaturePrefix)) malformed("a signature line does not start with an em dash");
    line.remove_prefix(kSignaturePrefix.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos) malformed("a signature line has no signature");
    std::string name(line.substr(0, space));
    auto signature = crypto::base64_decode(line.substr(space + 1));
    if (!valid_key_name(name) || !signature || signature->size() < 5) malformed("a bad signature line");
    if (++count > kMaxSignatures) malformed("too many signatures");
    uint32_t hash = read_be32(*signature);
    const Verifier* verifier = nullptr;
    for (const Verifier& v : known)
      if (v.name == name && v.key_hash == hash) verifier = &v;
    if (!verifier) continue;  // someone else's signature: not ours to judge
    if (!crypto::ed25519_verify(verifier->public_key, opened.text, signature->substr(4)))
      throw Error::Invalid("invalid_signature", "the signature by " + name + " does not verify");
    if (seen.insert({name, hash}).second) opened.verified_by.push_back(name);
  }
  if (opened.verified_by.empty())
    throw Error::Invalid("unverified_note", "the note carries no signature by a known key");
  return opened;
}

}  // namespace byoc::access::note
