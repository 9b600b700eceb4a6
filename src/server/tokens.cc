#include "server/tokens.h"

#include <string_view>

#include "base/crypto.h"

namespace byoc::server {
namespace {

constexpr size_t kIdChars = 16;      // hex of 8 random bytes
constexpr size_t kSecretChars = 43;  // base64url (unpadded) of 32 random bytes
constexpr size_t kCaHashChars = 64;  // hex SHA-256

NewToken make(const std::string& prefix, const std::string& suffix) {
  NewToken t;
  t.id = crypto::hex(crypto::random_bytes(kIdChars / 2));
  std::string secret = crypto::base64url(crypto::random_bytes(32));
  t.secret_sha256_hex = crypto::sha256_hex(secret);
  t.text = prefix + t.id + "." + secret + suffix;
  return t;
}

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Consumes `n` characters of `text` that all satisfy `ok`.
template <typename Pred>
bool take(std::string_view& text, size_t n, Pred ok, std::string* out) {
  if (text.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (!ok(text[i])) return false;
  out->assign(text.substr(0, n));
  text.remove_prefix(n);
  return true;
}

bool take_dot(std::string_view& text) {
  if (text.empty() || text.front() != '.') return false;
  text.remove_prefix(1);
  return true;
}

// Tokens have a fixed shape, "<prefix><16 hex>.<43 base64url>[.<64 hex>]",
// checked by hand: this runs on every authenticated request.
std::optional<TokenParts> parse(std::string_view text, std::string_view prefix, bool with_ca) {
  if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
  text.remove_prefix(prefix.size());
  TokenParts parts;
  if (!take(text, kIdChars, lower_hex, &parts.id) || !take_dot(text) ||
      !take(text, kSecretChars, base64url, &parts.secret))
    return std::nullopt;
  if (with_ca && (!take_dot(text) || !take(text, kCaHashChars, lower_hex, &parts.ca_sha256_hex)))
    return std::nullopt;
  if (!text.empty()) return std::nullopt;
  return parts;
}

}  // namespace

NewToken make_api_token() { return make(kApiTokenPrefix, ""); }
NewToken make_join_token(const std::string& ca_sha256_hex) { return make(kJoinTokenPrefix, "." + ca_sha256_hex); }

std::optional<TokenParts> parse_api_token(const std::string& text) { return parse(text, kApiTokenPrefix, false); }
std::optional<TokenParts> parse_join_token(const std::string& text) { return parse(text, kJoinTokenPrefix, true); }

bool secret_matches(const std::string& secret, const std::string& stored_sha256_hex) {
  return crypto::constant_time_equal(crypto::sha256_hex(secret), stored_sha256_hex);
}

}  // namespace byoc::server
