// AuditTrail: the AuditSink that keeps each record as an entry of the
// tamper-evident audit logs (access/audit_log.h): the environment's log when
// the call is about an environment (named by the handler, or found by the
// path's {env} in the organisation addressed), else the plane's own log.
// Every record is also written to the server log as `audit {json}`.
//
// Calls without a verified credential (anonymous) are only logged: they name
// no one, and anyone could otherwise grow a log without bound.
//
// Thread-safe. record() writes on the store pool, never on an I/O thread.
#pragma once

#include "access/audit_log.h"
#include "base/work_pool.h"
#include "server/audit.h"
#include "store/store.h"

namespace byoc::server {

class AuditTrail final : public AuditSink {
 public:
  AuditTrail(store::Store& store, WorkPool& pool, access::AuditLogs& logs) : store_(store), pool_(pool), logs_(logs) {}

  void write_in(store::Transaction& tx, const AuditRecord& record) override;
  void record(const AuditRecord& record, bool written, std::function<void()> done) override;

 private:
  store::Store& store_;
  WorkPool& pool_;
  access::AuditLogs& logs_;
};

}  // namespace byoc::server
