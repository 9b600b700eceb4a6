// Ends access requests whose time is up: a request not decided by its
// expires_at, or a grant whose window closed, becomes EXPIRED — with its
// event in the environment's audit log and, for a grant, a new revision so
// the agent puts its certificate on the CRL at once. Looks again at the
// request's next deadline (the runner's clock, injected). Level-triggered:
// a late or repeated reconcile changes nothing twice.
#pragma once

#include "access/audit_log.h"
#include "base/clock.h"
#include "controllers/reconciler.h"
#include "store/store.h"

namespace byoc::controllers {

class AccessController final : public Reconciler {
 public:
  AccessController(store::Store& store, const Clock& clock, const access::AuditLogs& logs)
      : store_(store), clock_(clock), logs_(logs) {}
  ReconcileResult reconcile(const std::string& id) override;

 private:
  store::Store& store_;
  const Clock& clock_;
  const access::AuditLogs& logs_;
};

}  // namespace byoc::controllers
