// What the resource commands send: request paths and bodies built from parsed
// flags, and the syntax checks the CLI does itself before any request (so a
// typo is a usage error with exit code 2, with no server needed). Semantic
// rules (RFC 1918, prefix length, known zones, instance types, ranges) stay
// with the server, which owns them, and so do defaults: a body carries only
// the fields the user gave.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/access.h"

namespace byoc::cli {

struct EnvironmentCreateArgs {
  std::string name;
  std::string cloud;
  std::string cidr;
  std::string region;                       // empty: the server's default for the cloud
  std::vector<std::string> zones;           // empty: the server's default
  std::vector<std::string> instance_types;  // empty: not sent (aws allows every catalogue type)
  std::optional<int> daemonset_cpu_millis;
  std::optional<int> daemonset_memory_mib;
  std::string account_id;  // aws: the customer's account (empty: not sent, given later)
  std::string role_name;   // aws: the onboarding role's name (empty: the server's default)
};

// PATCH /v1/environments/{env}. The server replaces `daemonsets` as a whole,
// so the command asks for both of its values together.
struct EnvironmentUpdateArgs {
  std::optional<std::vector<std::string>> instance_types;  // empty list: every catalogue type
  std::optional<int> daemonset_cpu_millis;
  std::optional<int> daemonset_memory_mib;
  std::string account_id;  // aws, while it awaits the customer's role (empty: unchanged)
  std::string role_name;
};

struct ServiceCreateArgs {
  std::string name;
  std::optional<std::string> clickhouse_version;
  std::optional<int> shards;
  std::optional<int> replicas;
  std::optional<int> cpu_millis;
  std::optional<int> memory_mib;
  std::optional<std::vector<std::string>> allowed_ips;
  std::optional<std::string> profile;  // excludes cpu_millis/memory_mib (the command checks)
};

// PATCH /v1/environments/{env}/services/{svc}.
struct ServiceUpdateArgs {
  std::optional<std::vector<std::string>> allowed_ips;  // empty list: loopback only
  std::optional<std::string> profile;
  std::optional<int> cpu_millis, memory_mib, replicas;
  std::optional<std::string> when;  // now | window
};

struct TokenCreateArgs {
  std::string role;
  std::string organization;  // empty: the server's default
  std::string subject;       // who holds it; empty: not sent
};

// Only the fields the user gave: defaults are the server's business.
nlohmann::json environment_create_body(const EnvironmentCreateArgs& args);
nlohmann::json environment_update_body(const EnvironmentUpdateArgs& args);
nlohmann::json service_create_body(const ServiceCreateArgs& args);
nlohmann::json service_update_body(const ServiceUpdateArgs& args);
nlohmann::json token_create_body(const TokenCreateArgs& args);
nlohmann::json organization_create_body(const std::string& name);

// "/v1/environments" (empty name) or "/v1/environments/{name}", the name
// escaped as one path segment.
std::string environment_path(const std::string& environment);
// ".../services" (empty service) or ".../services/{service}" of `environment`.
std::string service_path(const std::string& environment, const std::string& service);
// "/v1/environments/{environment}/profiles".
std::string profiles_path(const std::string& environment);
// "/v1/tokens" (empty id) or "/v1/tokens/{id}".
std::string token_path(const std::string& id);
// `path` with `name=value` added to its query ('?' or '&'), the value
// percent-encoded; `path` unchanged when `value` is empty (not given).
std::string with_query(const std::string& path, const std::string& name, const std::string& value);
// with_query(path, "organization", organization): the organisation admins
// and vendor staff act in (customers always act in their own).
std::string with_organization(const std::string& path, const std::string& organization);

// POST /v1/environments/{env}/access-requests: the CSR only (the private key
// never leaves the machine).
struct AccessRequestArgs {
  std::string scope;
  std::string reason;
  int64_t duration_seconds = 0;
  std::string csr_pem;
};
nlohmann::json access_request_body(const AccessRequestArgs& args);
// POST /v1/access-requests/{id}/reviews; `customer_approval` (a signed note)
// only when non-empty.
nlohmann::json access_review_body(const std::string& decision, const std::string& reason,
                                  const std::string& customer_approval = "");

// "/v1/environments/{env}/access-requests".
std::string access_requests_path(const std::string& environment);
// "/v1/access-requests/{id}" (escaped), plus "/" + `action` when given
// ("reviews", "certificate", "revoke", "done").
std::string access_request_path(const std::string& id, const std::string& action = "");

// Whether `id` may name the files an access request keeps on this machine
// (`<id>.key`, `<id>.pem`): 1-128 of [A-Za-z0-9._-], not starting with '.'.
bool valid_access_request_id(std::string_view id);

// A duration as `--duration` takes it: Go-like `<n><unit>` terms (units h, m,
// s; e.g. "90s", "45m", "2h", "1h30m") or a plain number of seconds of at
// least a minute ("3600"; a bare "2" is refused: 2 what?). nullopt for
// anything else, for zero and for more than INT32_MAX seconds (what the API
// takes).
std::optional<int64_t> parse_duration_seconds(std::string_view text);
// The inverse, for display: 7200 -> "2h", 5400 -> "1h30m", 90 -> "1m30s", 0 -> "0s".
std::string format_duration_seconds(int64_t seconds);

// The fields access::approval_text() signs, from the API's view of an access
// request (GET /v1/access-requests/{id}): id, environment_id, scope,
// requester, duration_seconds, csr_public_key_sha256. Throws byoc::Error
// (internal) when the answer lacks one of them.
model::AccessRequest approval_subject(const nlohmann::json& request);

// "" if `text` is an IPv4 CIDR (a.b.c.d/n, octets 0-255, n 0-32), else why not.
std::string ipv4_cidr_syntax_error(const std::string& text);
// "" if `text` is an IPv4 or IPv6 address with a /prefix, else why not.
std::string ip_cidr_syntax_error(const std::string& text);

}  // namespace byoc::cli
