#include "server/audit.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace byoc::server {

const char* audit_outcome(int status) {
  if (status >= 200 && status < 300) return "succeeded";
  if (status == 401 || status == 403) return "denied";
  if (status >= 400 && status < 500) return "refused";
  return "failed";
}

std::string format_audit(const AuditRecord& r) {
  nlohmann::ordered_json actor = {{"kind", r.actor.kind}, {"id", r.actor.id}};
  if (r.actor.kind == "token") {
    actor["role"] = r.actor.role;
    actor["organization"] = r.actor.organization;
    actor["subject"] = r.actor.subject;
  }
  nlohmann::ordered_json line = {{"time_ms", r.unix_millis},
                                 {"request_id", r.request_id},
                                 {"actor", actor},
                                 {"action", r.action},
                                 {"organization", r.organization},
                                 {"object", r.object},
                                 {"created_id", r.created_id},
                                 {"status", r.status},
                                 {"outcome", r.outcome},
                                 {"error_code", r.error_code}};
  // Path parameters are client input: bytes that are not UTF-8 are replaced.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void LogAuditSink::record(const AuditRecord& record) { spdlog::info("audit {}", format_audit(record)); }

}  // namespace byoc::server
