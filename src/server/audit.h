// The audit seam: for every call of a route whose Effect is kChange — allowed
// or refused — the dispatcher hands one AuditRecord to the server's one
// AuditSink when the answer goes out: who acted (the token's id, role,
// organisation and subject, or the agent), what (the route's action name),
// on what (the organisation addressed and the route's path parameters, plus
// the id of what a create made) and with which result. Never a secret, a body
// or a header. Today's sink writes the server log; the access issue puts a
// tamper-evident log behind the same interface.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace byoc::server {

struct AuditActor {
  // "token" (an API token), "agent" (an agent's client certificate),
  // "join_token" (an agent joining) or "anonymous" (no credential verified).
  std::string kind = "anonymous";
  std::string id;            // token id or agent certificate common name; never a secret
  std::string role;          // tokens only
  std::string organization;  // tokens only: the token's own organisation
  std::string subject;       // tokens only: who holds it
};

struct AuditRecord {
  int64_t unix_millis = 0;
  std::string request_id;
  AuditActor actor;
  std::string action;        // e.g. "environment.create"
  std::string organization;  // addressed; empty when global or never admitted
  std::map<std::string, std::string> object;  // the route's path parameters, e.g. {"env": "demo"}
  std::string created_id;    // what a successful create made, when it says
  int status = 0;
  // "succeeded" (2xx), "denied" (401, 403), "refused" (other 4xx: the
  // request was wrong or conflicted) or "failed" (5xx).
  std::string outcome;
  std::string error_code;    // the answer's error code, if any
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Called from any thread, once per audited call, after its answer is final.
  virtual void record(const AuditRecord& record) = 0;
};

// The outcome word for an HTTP status (see AuditRecord::outcome).
const char* audit_outcome(int status);

// One JSON object per record, keys in a stable order (for sinks and tests).
std::string format_audit(const AuditRecord& record);

// Writes each record to the server log as `audit {json}`.
class LogAuditSink final : public AuditSink {
 public:
  void record(const AuditRecord& record) override;
};

}  // namespace byoc::server
