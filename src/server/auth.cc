#include "server/auth.h"

#include "base/error.h"
#include "server/tokens.h"

namespace byoc::server {
namespace {

std::optional<TokenParts> bearer_parts(const HttpRequest& request) {
  static const std::string prefix = "Bearer ";
  auto header = request.headers.find("authorization");
  if (header == request.headers.end() || header->second.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  return parse_api_token(header->second.substr(prefix.size()));
}

// The parts of the request's bearer token; throws 401 if it has none.
TokenParts bearer_token(const HttpRequest& request) {
  auto parts = bearer_parts(request);
  if (!parts) throw Error::Unauthenticated("missing or invalid bearer token");
  return std::move(*parts);
}

store::ApiToken verified_token(store::Transaction& tx, const TokenParts& parts) {
  auto token = tx.api_tokens().by_id(parts.id);
  if (!token || !secret_matches(parts.secret, token->secret_sha256_hex))
    throw Error::Unauthenticated("missing or invalid bearer token");
  return std::move(*token);
}

// The access log names the token that acted (its id, never its secret).
void trace_token(const HttpRequest& request, const std::string& token_id) {
  if (request.trace) request.trace->token_id = token_id;
}

// Which roles may make a call of `access` (kAdmin and kAnyToken aside).
bool may_act(const std::string& role, Access access) {
  switch (access) {
    case Access::kRead:
      return role == "admin" || role == "operator" || role == "approver" || role == "customer";
    case Access::kWrite:
    case Access::kJoinToken:
      return role == "admin" || role == "customer";
    case Access::kRequest:
      return role == "operator";
    case Access::kReview:
      return role == "approver" || role == "customer";
    case Access::kRevoke:
      return role == "approver" || role == "admin" || role == "customer";
    default:
      return false;
  }
}

}  // namespace

std::string addressed_organization(const Principal& who, const HttpRequest& request, Access access) {
  auto requested = request.query.find("organization");
  if (access == Access::kAdmin) {
    // Tokens and organisations are global: no organisation is addressed.
    if (who.role != "admin") throw Error::Forbidden("only admins manage tokens and organisations");
    return "";
  }
  if (access == Access::kAnyToken) return "";
  if (!needs_token(access)) throw Error::Internal("no token is checked for this route");
  if (!may_act(who.role, access)) throw Error::Forbidden("role " + who.role + " may not do this");
  if (who.role == "customer") {
    if (requested != request.query.end() && requested->second != who.organization)
      throw Error::NotFound("organization '" + requested->second + "' not found", "organization");
    return who.organization;
  }
  return requested == request.query.end() ? "default" : requested->second;
}

bool must_exist(const Principal& who, Access access) {
  return access != Access::kAdmin && access != Access::kAnyToken && who.role != "customer";
}

std::string authorize(store::Transaction& tx, const Principal& who, const HttpRequest& request, Access access) {
  std::string organization = addressed_organization(who, request, access);
  if (must_exist(who, access) && !tx.organizations().by_name(organization))
    throw Error::NotFound("organization '" + organization + "' not found", "organization");
  return organization;
}

bool is_vendor_role(const std::string& role) { return role == "admin" || role == "operator" || role == "approver"; }

bool can_see(const Principal& who, const std::string& organization) {
  return who.role != "customer" || who.organization == organization;
}

std::optional<Principal> VerifiedTokens::find(const HttpRequest& request, uint64_t generation) const {
  auto parts = bearer_parts(request);
  if (!parts) return std::nullopt;
  auto known = verified_.find(parts->id, generation);
  if (!known || !secret_matches(parts->secret, known->secret_sha256_hex)) return std::nullopt;
  trace_token(request, known->who.token_id);
  return known->who;
}

Principal VerifiedTokens::authenticate(store::Transaction& tx, const HttpRequest& request, uint64_t generation) {
  store::ApiToken token = verified_token(tx, bearer_token(request));
  Principal who{token.id, token.role, token.organization, token.subject};
  trace_token(request, token.id);
  verified_.remember(token.id, {std::move(token.secret_sha256_hex), who}, generation);
  return who;
}

}  // namespace byoc::server
