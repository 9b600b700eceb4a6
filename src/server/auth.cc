#include "server/auth.h"

#include "base/error.h"
#include "server/tokens.h"

namespace byoc::server {

Principal authenticate(store::Transaction& tx, const HttpRequest& request) {
  const std::string header = request.header("authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0) throw Error::Unauthenticated("missing or invalid bearer token");
  auto parts = parse_api_token(header.substr(prefix.size()));
  if (!parts) throw Error::Unauthenticated("missing or invalid bearer token");
  auto token = tx.api_token(parts->id);
  if (!token || !secret_matches(parts->secret, token->secret_sha256_hex))
    throw Error::Unauthenticated("missing or invalid bearer token");
  return {token->id, token->role, token->organization};
}

}  // namespace byoc::server
