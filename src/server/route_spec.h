// RouteSpec: what a route declares when it is registered, so that the
// dispatcher — not each handler — authenticates, authorises and audits.
#pragma once

#include <string>

namespace byoc::server {

// Who may call a route. The dispatcher admits API-token routes itself
// (kAnyToken … kAdmin); the others it passes straight to their handler.
enum class Access {
  kPublic,     // no credentials (health, the OpenAPI document; /metrics checks its source itself)
  kAgent,      // an agent: its client certificate, or a join token in the body; the handler checks which
  kAnyToken,   // any valid API token, whatever its role
  kRead,       // every role; a customer only its own organisation
  kWrite,      // admin, or a customer in its own organisation
  kJoinToken,  // mint a join token (a secret): as kWrite
  kAdmin,      // API tokens and organisations
  // Troubleshooting access (who may do what with access requests):
  kRequest,    // operators (vendor on-call) ask for access
  kReview,     // approvers; a customer in its own organisation
  kRevoke,     // approvers and admins; a customer in its own organisation
};

// What a call does to the management plane's state.
enum class Effect {
  kRead,    // nothing
  kChange,  // a change someone asked for: every call, allowed or not, is audited
  // An agent's status and usage report: what the plane knows of the data
  // plane, not a decision; counted and access-logged, not audited per call.
  kReport,
};

struct RouteSpec {
  std::string method;
  std::string pattern;  // "{name}" matches one path segment
  std::string action;   // "environment.create": the audit log's name for what the call does
  Access access = Access::kPublic;
  Effect effect = Effect::kRead;
};

// Whether the dispatcher must establish an API-token caller before the handler runs.
inline bool needs_token(Access access) {
  return access != Access::kPublic && access != Access::kAgent;
}

}  // namespace byoc::server
