// Reconciles environments through their cloud drivers, Crossplane style:
// observe, then take the one next step (create, update, delete), recording
// the action and its idempotency token in the store before asking the cloud.
// AWAITING_CUSTOMER_ROLE (clouds the customer must let us into: checked
// again and again until the grant is in place) → PENDING → PROVISIONING → READY, or FAILED with the driver's reason until
// retried; DELETING stays until the driver observes nothing left. Operations
// waiting on an environment complete here. How soon to look again follows
// the driver's hint, backing off while nothing changes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "base/clock.h"
#include "cloud/driver.h"
#include "controllers/reconciler.h"
#include "store/store.h"

namespace byoc::controllers {

class EnvironmentController final : public Reconciler {
 public:
  // A deleted environment is announced to the plane (model/topics.h:
  // kEnvironmentDeleted) in the transaction that removes it.
  EnvironmentController(store::Store& store, const Clock& clock,
                        std::map<std::string, cloud::CloudDriver*> drivers);
  ReconcileResult reconcile(const std::string& id) override;

 private:
  ReconcileResult reconcile_deletion(model::Environment env, cloud::CloudDriver& driver);
  void hold_unavailable(const std::string& id);
  // Records a new action with a fresh token (and the operation's step);
  // false if the environment went meanwhile or began deleting.
  bool begin(model::Environment& env, const std::string& action, const std::string& step);
  // Asks the driver for the recorded action; records the handle it names.
  void send(const model::Environment& env, cloud::CloudDriver& driver);
  void record_handle(const std::string& id, const std::string& handle);
  // Moves the provisioning operations to `step`; a PROVISIONING
  // environment's message becomes `progress`.
  void advance_operation(const std::string& id, const std::string& step, const std::string& progress = "");
  void mark_failed(const std::string& id, const cloud::Observation& observed);
  void mark_ready(const std::string& id);
  void finish_deletion(const model::Environment& environment);
  // Records an access check of `checked` (an AWAITING_CUSTOMER_ROLE
  // environment) unless its account changed or it moved on meanwhile;
  // returns whether access was granted and recorded.
  bool record_access_check(const model::Environment& checked, const cloud::AccessCheck& check);
  // A PENDING environment of a cloud the customer must let in, never
  // granted nor acted on, is moved to AWAITING_CUSTOMER_ROLE (and onboarded).
  bool await_customer(const model::Environment& env, cloud::CloudDriver& driver);
  // send(), but a refusal that asking again won't change (kForbidden,
  // kInvalid…) fails the environment with its message; false then.
  bool send_or_fail(const model::Environment& env, cloud::CloudDriver& driver);
  // The delay before the next look: the driver's hint, growing while we wait.
  ReconcileResult look_again(const std::string& id, std::chrono::milliseconds hint);
  void settled(const std::string& id);

  store::Store& store_;
  const Clock& clock_;
  std::map<std::string, cloud::CloudDriver*> drivers_;
  std::mutex mutex_;
  std::map<std::string, int> waits_;  // environment id → looks since the last change
};

// The idempotency token of a new cloud action: named after the operation it
// serves ("op-…-<random>"; "act-<random>" with none), so the customer's
// CloudTrail, where the aws driver names its role session after it, shows
// which operation did what; unique per action.
std::string action_token(const std::string& operation_id);

// Readies a FAILED environment for another attempt (POST …/retry): the
// failed action is asked for again under a new token (of `operation_id`).
void prepare_retry(model::Environment& env, int64_t now, const std::string& operation_id = "");

// Records an access check on `env` (the customer_access condition; while
// AWAITING_CUSTOMER_ROLE, the check's message, and PENDING once granted).
// Returns whether anything changed.
bool apply_access_check(model::Environment& env, const cloud::AccessCheck& check, int64_t now);

// The running operation of `kind` for an environment (and service, if given).
std::optional<model::Operation> running_operation(store::Transaction& tx, const std::string& kind,
                                                  const std::string& environment_id,
                                                  const std::string& service_name = "");

}  // namespace byoc::controllers
