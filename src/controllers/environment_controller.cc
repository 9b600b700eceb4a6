#include "controllers/environment_controller.h"

#include <spdlog/spdlog.h>

#include "base/error.h"

namespace byoc::controllers {

std::optional<model::Operation> running_operation(store::Transaction& tx, const std::string& kind,
                                                  const std::string& environment_id,
                                                  const std::string& service_name) {
  for (auto& op : tx.running_operations(environment_id))
    if (op.kind == kind && op.service_name == service_name) return op;
  return std::nullopt;
}

EnvironmentController::EnvironmentController(store::Store& store, const Clock& clock,
                                             std::map<std::string, cloud::CloudDriver*> drivers,
                                             std::function<void(const std::string&)> on_deleted)
    : store_(store), clock_(clock), drivers_(std::move(drivers)), on_deleted_(std::move(on_deleted)) {}

ReconcileResult EnvironmentController::reconcile(const std::string& id) {
  std::optional<model::Environment> env;
  store_.read([&](store::Transaction& tx) { env = tx.environment_by_id(id); });
  if (!env) return {};
  auto driver_it = drivers_.find(env->cloud);
  if (driver_it == drivers_.end()) throw Error::Internal("no driver for cloud " + env->cloud);
  cloud::CloudDriver& driver = *driver_it->second;

  if (env->state == model::kDeleting) {
    driver.remove(*env);
    finish_deletion(*env);
    return {};
  }

  if (!driver.can_provision()) {
    store_.transact([&](store::Transaction& tx) {
      auto e = tx.environment_by_id(id);
      if (!e) return;
      int64_t now = clock_.unix_seconds();
      if (e->set_condition("provisioned", false, "driver_not_available", now)) {
        e->updated_at = now;
        tx.put_environment(*e);
      }
      if (auto op = running_operation(tx, "environment.create", id)) {
        op->succeed(model::to_json(*e), now);
        tx.put_operation(*op);
      }
    });
    return {};
  }

  cloud::Observation observed = driver.observe(*env);
  if (!observed.ready) {
    // Persist the step, then act.
    store_.transact([&](store::Transaction& tx) {
      auto e = tx.environment_by_id(id);
      if (!e || e->state == model::kDeleting) return;
      int64_t now = clock_.unix_seconds();
      if (e->state == model::kPending) {
        e->state = model::kProvisioning;
        e->updated_at = now;
        tx.put_environment(*e);
      }
      if (auto op = running_operation(tx, "environment.create", id)) {
        op->advance_to(observed.exists ? "start_agent" : "provision");
        op->updated_at = now;
        tx.put_operation(*op);
      }
    });
    driver.create(*env);
    observed = driver.observe(*env);
  }
  if (!observed.ready) return {std::chrono::milliseconds(500)};

  store_.transact([&](store::Transaction& tx) {
    auto e = tx.environment_by_id(id);
    if (!e || e->state == model::kDeleting) return;
    int64_t now = clock_.unix_seconds();
    if (e->state != model::kReady) {
      e->state = model::kReady;
      e->updated_at = now;
      tx.put_environment(*e);
    }
    if (auto op = running_operation(tx, "environment.create", id)) {
      op->succeed(model::to_json(*e), now);
      tx.put_operation(*op);
    }
  });
  return {};
}

void EnvironmentController::finish_deletion(const model::Environment& environment) {
  store_.transact([&](store::Transaction& tx) {
    int64_t now = clock_.unix_seconds();
    // Operations still waiting on this environment end with it.
    for (auto& op : tx.running_operations(environment.id)) {
      if (op.kind == "environment.delete") op.succeed(nullptr, now);
      else op.fail("environment_deleted", "the environment was deleted", now);
      tx.put_operation(op);
    }
    for (const auto& s : tx.services(environment.id)) tx.delete_service(s.id);
    tx.delete_environment(environment.id);
  });
  spdlog::info("environment {} ({}) deleted", environment.name, environment.id);
  if (on_deleted_) on_deleted_(environment.id);
}

}  // namespace byoc::controllers
