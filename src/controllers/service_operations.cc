#include "controllers/service_operations.h"

#include "controllers/environment_controller.h"

namespace byoc::controllers {

void settle_service_operations(store::Transaction& tx, const model::Environment& environment,
                               const std::string& service_name, const std::optional<model::Service>& service,
                               int64_t now) {
  const bool applied_current = environment.applied_revision >= environment.revision;
  if (auto op = running_operation(tx, "service.create", environment.id, service_name)) {
    if (!service) {
      op->fail("service_deleted", "the service was deleted before it became ready", now);
    } else if (service->state == model::kReady) {
      op->succeed(model::to_json(*service, environment.name), now);
    } else if (service->state == model::kFailed) {
      op->fail(service->reason.empty() ? "failed" : service->reason,
               "the agent could not run the service (reason: " + service->reason + ")", now);
    } else if (service->state == model::kProvisioning) {
      op->advance_to("endpoint_ready");
      op->updated_at = now;
    } else {
      op.reset();
    }
    if (op) tx.operations().put(*op);
  }
  if (auto op = running_operation(tx, "service.update", environment.id, service_name)) {
    // Settled once the agent has applied (or refused) the revision carrying the update.
    if (!service) {
      op->fail("service_deleted", "the service was deleted", now);
      tx.operations().put(*op);
    } else if (service->state == model::kReady && service->reason.empty() && applied_current) {
      op->succeed(model::to_json(*service, environment.name), now);
      tx.operations().put(*op);
    } else if (!service->reason.empty() && applied_current && service->state != model::kProvisioning) {
      op->fail(service->reason, "the agent refused the update (reason: " + service->reason + ")", now);
      tx.operations().put(*op);
    }
  }
  if (!service) {
    if (auto op = running_operation(tx, "service.delete", environment.id, service_name)) {
      op->succeed(nullptr, now);
      tx.operations().put(*op);
    }
  }
}

ReconcileResult ServiceController::reconcile(const std::string& id) {
  auto colon = id.find(':');
  if (colon == std::string::npos) return {};
  std::string environment_id = id.substr(0, colon);
  std::string name = id.substr(colon + 1);
  store_.transact([&](store::Transaction& tx) {
    auto env = tx.environments().by_id(environment_id);
    if (!env) return;
    settle_service_operations(tx, *env, name, tx.services().by_name(environment_id, name), clock_.unix_seconds());
  });
  return {};
}

}  // namespace byoc::controllers
