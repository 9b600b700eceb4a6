// A Kubernetes API request as the support gateway sees it, read the way the
// API server's authorizer reads it (verb, API group, namespace, resource,
// subresource, name), and the gateway's decision on it for the
// `kubernetes-readonly` scope. Pure: no I/O.
//
// The API server enforces the role (support_rbac.h) on the impersonated
// user anyway; the gateway checks first so that a refusal is immediate,
// explained and audited with a reason, and so that the scope holds even if
// the role in the cluster was edited. The check reads the role's own table,
// so both answer alike.
//
// Parsing is strict: a target the gateway might read differently from the
// API server (percent-encoding in the path, ".." or empty segments,
// non-ASCII bytes, an overlong path or query, a malformed query) is not
// parsed at all and the gateway answers 400.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace byoc::kube {

inline constexpr size_t kMaxApiPathBytes = 4096;
inline constexpr size_t kMaxApiQueryBytes = 4096;

struct ApiRequest {
  // As RBAC names it. Resource requests: get, list, watch, create, update,
  // patch, delete, deletecollection, or proxy (the legacy /api/v1/proxy/…
  // form); non-resource requests: the method in lower case (get, post, …).
  // "" for a method RBAC has no verb for (OPTIONS, CONNECT, …).
  std::string verb;
  // false for /version, /healthz, /openapi/…, and the discovery documents
  // /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION.
  bool resource_request = false;
  std::string path;  // without the query; what non-resource rules match
  std::string api_group;  // "" for the core group (/api/v1)
  std::string api_version;
  std::string namespace_name;  // "" for cluster-scoped or all namespaces
  std::string resource;        // "pods"
  std::string subresource;     // "log", "exec", … or ""
  std::string name;            // "" for a collection
};

// The request of `method` on `target` (path and query, as on the request
// line); nullopt when the target is malformed or ambiguous (see above). A
// GET on a collection is a watch when the query sets `watch` to anything
// but "0" or "false", as the API server reads it.
std::optional<ApiRequest> parse_api_request(std::string_view method, std::string_view target);

// Why the gateway refuses a request; each has a stable code (refusal_code).
enum class SupportRefusal {
  kWrite,           // "write_refused": create, update, patch, delete, deletecollection, …
  kSecrets,         // "secrets_refused"
  kConfigMaps,      // "configmaps_refused"
  kExec,            // "exec_refused": pods/exec, pods/attach, pods/portforward
  kProxy,           // "proxy_refused": any …/proxy, the legacy /proxy/ verb
  kToken,           // "token_refused": serviceaccounts/token
  kEphemeral,       // "ephemeral_refused": pods/ephemeralcontainers
  kNotInScope,      // "not_in_scope": anything else outside the troubleshooting set
  kUnknownRequest,  // "unknown_request": a method RBAC has no verb for
};

std::string_view refusal_code(SupportRefusal refusal);

struct ReadOnlyDecision {
  std::optional<SupportRefusal> refusal;  // nullopt: allowed
  std::string message;                    // why, in one line ("" when allowed)

  bool allowed() const { return !refusal.has_value(); }
};

// Allowed: a verb the byoc-support-readonly role grants on the resource,
// and the discovery kubectl needs (GET of /api, /api/v1, /apis,
// /apis/GROUP, /apis/GROUP/VERSION, /version, /openapi/v2, /openapi/v3…;
// the API server grants those to every authenticated user through its
// built-in system:discovery role, not through ours).
ReadOnlyDecision check_support_readonly(const ApiRequest& request);

// What an audit event records of a request: verb, group, version,
// resource, subresource, namespace, name (resource requests) or verb and
// path (others) — never a body, and of the query only what made it a watch.
nlohmann::json audit_fields(const ApiRequest& request);

// One line for logs and messages: "list pods namespace=x",
// "get pods/log x/ch-0", "get /version".
std::string audit_summary(const ApiRequest& request);

}  // namespace byoc::kube
