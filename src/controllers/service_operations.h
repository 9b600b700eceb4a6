// Settles service operations from the service's current state: a create
// succeeds once the service is READY (its endpoint answers) and fails if the
// agent reports FAILED; an update settles once the agent has applied (READY)
// or refused (a reason) the revision carrying it (the environment's
// applied_revision has reached its revision); a delete succeeds once the row is gone. Called in the
// same transaction that changes the service (the agent sync), and again by
// the ServiceController on every resync, so a crash between the two can't
// leave an operation running forever.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "controllers/reconciler.h"
#include "store/store.h"

namespace byoc::controllers {

void settle_service_operations(store::Transaction& tx, const model::Environment& environment,
                               const std::string& service_name, const std::optional<model::Service>& service,
                               int64_t now);

class ServiceController final : public Reconciler {
 public:
  ServiceController(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  // `id` is "<environment id>:<service name>" so that a deleted service can
  // still be settled.
  ReconcileResult reconcile(const std::string& id) override;

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace byoc::controllers
