#include "server/audit_trail.h"

#include <spdlog/spdlog.h>

namespace byoc::server {
namespace {

// The environment a record is about, by the path's {env} in the organisation
// addressed (the caller's own when the call was refused before that was
// established); "" when none.
std::string environment_of(store::Transaction& tx, const AuditRecord& r) {
  auto name = r.object.find("env");
  if (name == r.object.end()) return "";
  const std::string& org = r.organization.empty() ? r.actor.organization : r.organization;
  if (org.empty()) return "";
  auto env = tx.environments().by_name(org, name->second);
  return env ? env->id : "";
}

}  // namespace

void AuditTrail::write_in(store::Transaction& tx, const AuditRecord& record) {
  if (record.actor.kind == "anonymous") return;
  AuditRecord r = record;
  if (r.environment.empty()) r.environment = environment_of(tx, r);
  logs_.append(tx, r.environment.empty() ? logs_.plane_log() : logs_.environment_log(r.environment), format_audit(r));
}

void AuditTrail::record(const AuditRecord& record, bool written, std::function<void()> done) {
  spdlog::info("audit {}", format_audit(record));
  if (written || record.actor.kind == "anonymous") return done();
  auto work = [this, record, done = std::move(done)] {
    try {
      store_.transact([&](store::Transaction& tx) { write_in(tx, record); });
    } catch (const std::exception& e) {
      // The answer still goes out (it is final); the failure is the operator's to see.
      spdlog::error("request {}: audit record not kept: {}", record.request_id, e.what());
    }
    done();
  };
  if (pool_.on_own_thread()) return work();
  pool_.post(std::move(work));
}

}  // namespace byoc::server
