// Bearer and join tokens. A token is "<prefix><id>.<secret>": the id finds the
// record, the secret (32 random bytes, base64url) is checked against the
// stored SHA-256 in constant time. Secrets are never stored or logged.
//
// A join token also carries the SHA-256 of the server's CA certificate
// ("<id>.<secret>.<ca-sha256>"), so the joining agent can verify the server
// before it sends the secret (kubeadm's discovery hash).
#pragma once

#include <optional>
#include <string>

namespace byoc::server {

struct TokenParts {
  std::string id;
  std::string secret;
  std::string ca_sha256_hex;  // join tokens only
};

inline constexpr const char* kApiTokenPrefix = "byoc_";
inline constexpr const char* kJoinTokenPrefix = "byocjoin_";

struct NewToken {
  std::string id;
  std::string secret_sha256_hex;  // what the store keeps
  std::string text;               // what the user gets, once
};

NewToken make_api_token();
NewToken make_join_token(const std::string& ca_sha256_hex);

std::optional<TokenParts> parse_api_token(const std::string& text);
std::optional<TokenParts> parse_join_token(const std::string& text);

// Constant-time check of a presented secret against a stored hash.
bool secret_matches(const std::string& secret, const std::string& stored_sha256_hex);

}  // namespace byoc::server
