#include "server/tokens.h"

#include <algorithm>
#include <regex>

#include "base/crypto.h"

namespace byoc::server {
namespace {

NewToken make(const std::string& prefix, const std::string& suffix) {
  NewToken t;
  t.id = crypto::hex(crypto::random_bytes(8));
  std::string secret = crypto::base64url(crypto::random_bytes(32));
  t.secret_sha256_hex = crypto::sha256_hex(secret);
  t.text = prefix + t.id + "." + secret + suffix;
  return t;
}

std::optional<TokenParts> parse(const std::string& text, const std::string& prefix, bool with_ca) {
  static const std::regex api(R"(([0-9a-f]{16})\.([A-Za-z0-9_-]{43}))");
  static const std::regex join(R"(([0-9a-f]{16})\.([A-Za-z0-9_-]{43})\.([0-9a-f]{64}))");
  if (text.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = text.substr(prefix.size());
  std::smatch m;
  if (!std::regex_match(rest, m, with_ca ? join : api)) return std::nullopt;
  return TokenParts{m[1], m[2], with_ca ? std::string(m[3]) : std::string()};
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
