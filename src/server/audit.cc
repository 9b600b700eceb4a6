#include "server/audit.h"

#include <nlohmann/json.hpp>

#include "server/route_spec.h"

namespace byoc::server {

const char* audit_outcome(int status) {
  if (status >= 200 && status < 300) return "succeeded";
  if (status == 401 || status == 403) return "denied";
  if (status >= 400 && status < 500) return "refused";
  return "failed";
}

AuditRecord audit_record(const RequestTrace& trace, int64_t unix_millis, int status, std::string error_code) {
  AuditRecord r;
  r.unix_millis = unix_millis;
  r.request_id = trace.request_id;
  if (trace.caller) {
    r.actor = {"token", trace.caller->token_id, trace.caller->role, trace.caller->organization,
               trace.caller->subject};
  } else if (!trace.agent.empty()) {
    r.actor = {"agent", trace.agent, "", "", ""};
  } else if (trace.route && trace.route->access == Access::kAgent && !trace.token_id.empty()) {
    r.actor = {"join_token", trace.token_id, "", "", ""};
  }
  if (trace.route) r.action = trace.route->action;
  r.organization = trace.organization.value_or("");
  r.object = trace.object;
  if (status < 300) r.created_id = trace.created_id;
  r.environment = trace.environment_id;
  r.status = status;
  r.outcome = audit_outcome(status);
  r.error_code = std::move(error_code);
  return r;
}

std::string format_audit(const AuditRecord& r) {
  nlohmann::ordered_json actor = {{"kind", r.actor.kind}, {"id", r.actor.id}};
  if (r.actor.kind == "token") {
    actor["role"] = r.actor.role;
    actor["organization"] = r.actor.organization;
    actor["subject"] = r.actor.subject;
  }
  nlohmann::ordered_json line = {{"type", "call"},
                                 {"time_ms", r.unix_millis},
                                 {"request_id", r.request_id},
                                 {"actor", actor},
                                 {"action", r.action},
                                 {"organization", r.organization},
                                 {"environment", r.environment},
                                 {"object", r.object},
                                 {"created_id", r.created_id},
                                 {"status", r.status},
                                 {"outcome", r.outcome},
                                 {"error_code", r.error_code}};
  // Path parameters are client input: bytes that are not UTF-8 are replaced.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace byoc::server
