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

std::string authorize(store::Transaction& tx, const Principal& who, const HttpRequest& request, Action action) {
  auto requested = request.query.find("organization");
  if (action == Action::kAdmin) {
    // Tokens and organisations are global: no organisation is addressed.
    if (who.role != "admin") throw Error::Forbidden("only admins manage tokens and organisations");
    return "";
  }
  if (who.role == "customer") {
    if (requested != request.query.end() && requested->second != who.organization)
      throw Error::NotFound("organization '" + requested->second + "' not found", "organization");
    return who.organization;
  }
  bool vendor_staff = who.role == "operator" || who.role == "approver";
  if (vendor_staff && action != Action::kRead)
    throw Error::Forbidden("role " + who.role + " may only read");
  if (!vendor_staff && who.role != "admin") throw Error::Forbidden("unknown role");
  std::string organization = requested == request.query.end() ? "default" : requested->second;
  if (!tx.organization(organization))
    throw Error::NotFound("organization '" + organization + "' not found", "organization");
  return organization;
}

bool can_see(const Principal& who, const std::string& organization) {
  return who.role != "customer" || who.organization == organization;
}

}  // namespace byoc::server
