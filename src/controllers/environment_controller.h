// Reconciles environments: drives each through its cloud driver
// (PENDING → PROVISIONING → READY; DELETING → gone) and completes the
// operations that wait on it.
#pragma once

#include <functional>
#include <map>
#include <memory>

#include "base/clock.h"
#include "cloud/driver.h"
#include "controllers/reconciler.h"
#include "store/store.h"

namespace byoc::controllers {

class EnvironmentController final : public Reconciler {
 public:
  EnvironmentController(store::Store& store, const Clock& clock,
                        std::map<std::string, cloud::CloudDriver*> drivers,
                        std::function<void(const std::string& environment_id)> on_deleted);
  ReconcileResult reconcile(const std::string& id) override;

 private:
  void finish_deletion(const model::Environment& environment);
  store::Store& store_;
  const Clock& clock_;
  std::map<std::string, cloud::CloudDriver*> drivers_;
  std::function<void(const std::string&)> on_deleted_;
};

// The running operation of `kind` for an environment (and service, if given).
std::optional<model::Operation> running_operation(store::Transaction& tx, const std::string& kind,
                                                  const std::string& environment_id,
                                                  const std::string& service_name = "");

}  // namespace byoc::controllers
