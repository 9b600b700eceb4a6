// The audit seam: for every call of a route whose Effect is kChange — allowed
// or refused — one AuditRecord: who acted (the token's id, role,
// organisation and subject, or the agent), what (the route's action name),
// on what (the organisation addressed, the route's path parameters, the
// environment, plus the id of what a create made) and with which result.
// Never a secret, a body or a header.
//
// A change that succeeds writes its record in its own transaction (both or
// neither: transact_audited() in context.h); every other call's record is
// written when its answer is final, before the answer goes out. The sink
// behind both is the tamper-evident audit log (audit_trail.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "server/http.h"

namespace byoc::store {
class Transaction;
}

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
  std::string environment;   // the environment's id when the call is about one (its audit log)
  int status = 0;
  // "succeeded" (2xx), "denied" (401, 403), "refused" (other 4xx: the
  // request was wrong or conflicted) or "failed" (5xx).
  std::string outcome;
  std::string error_code;    // the answer's error code, if any
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Writes the record of a change that succeeded inside the change's own
  // transaction (run again if the transaction is).
  virtual void write_in(store::Transaction& tx, const AuditRecord& record) = 0;
  // Called once per audited call, from any thread, when its answer is final;
  // `written`: write_in() already committed it. `done` runs (on any thread)
  // once the record is kept — or could not be, which is logged.
  virtual void record(const AuditRecord& record, bool written, std::function<void()> done) = 0;
};

// The outcome word for an HTTP status (see AuditRecord::outcome).
const char* audit_outcome(int status);

// The record of a call as its trace tells it (see RequestTrace), answered
// with `status` and `error_code` at `unix_millis`.
AuditRecord audit_record(const RequestTrace& trace, int64_t unix_millis, int status, std::string error_code);

// One JSON object per record, keys in a stable order: the exact bytes of an
// audit log entry.
std::string format_audit(const AuditRecord& record);

}  // namespace byoc::server
