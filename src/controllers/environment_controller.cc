#include "controllers/environment_controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/crypto.h"
#include "base/error.h"
#include "cloud/traits.h"
#include "model/topics.h"

namespace byoc::controllers {
namespace {

using namespace std::chrono_literals;

constexpr auto kDefaultLook = 500ms;  // when the driver gives no hint
constexpr auto kLongestLook = 120s;   // a 45-minute stack: tens of looks, not thousands
constexpr double kLookGrowth = 1.5;

// The operations an environment's provisioning completes.
constexpr const char* kProvisioningKinds[] = {"environment.create", "environment.retry"};

std::vector<model::Operation> provisioning_operations(store::Transaction& tx, const std::string& id) {
  std::vector<model::Operation> out;
  for (auto& op : tx.operations().running(id))
    if (std::find(std::begin(kProvisioningKinds), std::end(kProvisioningKinds), op.kind) !=
        std::end(kProvisioningKinds))
      out.push_back(op);
  return out;
}

}  // namespace

std::optional<model::Operation> running_operation(store::Transaction& tx, const std::string& kind,
                                                  const std::string& environment_id,
                                                  const std::string& service_name) {
  for (auto& op : tx.operations().running(environment_id))
    if (op.kind == kind && op.service_name == service_name) return op;
  return std::nullopt;
}

std::string action_token(const std::string& operation_id) {
  if (operation_id.empty()) return model::new_id("act-");
  return operation_id + "-" + crypto::hex(crypto::random_bytes(4));
}

void prepare_retry(model::Environment& env, int64_t now, const std::string& operation_id) {
  env.state = model::kProvisioning;
  if (env.cloud_action.empty()) env.cloud_action = "create";
  env.cloud_token = action_token(operation_id);
  env.reason.clear();
  env.message.clear();
  env.updated_at = now;
}

EnvironmentController::EnvironmentController(store::Store& store, const Clock& clock,
                                             std::map<std::string, cloud::CloudDriver*> drivers)
    : store_(store), clock_(clock), drivers_(std::move(drivers)) {}

ReconcileResult EnvironmentController::reconcile(const std::string& id) {
  std::optional<model::Environment> env;
  store_.read([&](store::Transaction& tx) { env = tx.environments().by_id(id); });
  if (!env) {
    settled(id);
    return {};
  }
  auto driver_it = drivers_.find(env->cloud);
  if (driver_it == drivers_.end()) throw Error::Internal("no driver for cloud " + env->cloud);
  cloud::CloudDriver& driver = *driver_it->second;

  if (env->state == model::kDeleting) return reconcile_deletion(*env, driver);
  const cloud::CloudTraits* traits = cloud::find_cloud(env->cloud);
  if (traits && traits->customer_grants_access && env->state == model::kPending &&
      !(env->condition("customer_access") && env->condition("customer_access")->status)) {
    // Stored before its cloud asked for the customer's grant: it waits for one now.
    if (!await_customer(*env, driver)) return {};
    store_.read([&](store::Transaction& tx) { env = tx.environments().by_id(id); });
    if (!env) return {};
  }
  if (env->state == model::kAwaitingCustomerRole) {
    cloud::AccessCheck check = driver.check_access(*env);
    if (!record_access_check(*env, check)) return look_again(id, check.look_again);
    store_.read([&](store::Transaction& tx) { env = tx.environments().by_id(id); });
    if (!env || env->state != model::kPending) return {};  // deleted or changed meanwhile: a later pass
    settled(id);
  }
  if (!driver.can_provision()) {
    hold_unavailable(id);
    return {};
  }
  if (env->state == model::kFailed) return {};  // until someone retries it

  cloud::Observation observed = driver.observe(*env);
  if (!observed.handle.empty() && observed.handle != env->cloud_handle) record_handle(id, observed.handle);
  std::vector<std::string> steps = driver.provision_steps();
  // The customer's grant is behind us here: it is no step to begin with.
  std::erase(steps, std::string(cloud::kCustomerAccessStep));

  // An action recorded but not accepted yet (we stopped between recording
  // it and the cloud taking it, or it was never sent): send it again, with
  // the same token, so the cloud does it once.
  // (An update of something that is gone is no longer the step: it is created anew below.)
  bool update_of_nothing = env->cloud_action == "update" && !observed.exists;
  if (!env->cloud_action.empty() && observed.last_token != env->cloud_token && !update_of_nothing) {
    if (!send_or_fail(*env, driver)) return {};
    return look_again(id, observed.look_again);
  }
  if (observed.failure != cloud::Failure::kNone) {
    mark_failed(id, observed);
    return {};
  }
  if (!observed.exists || !observed.up_to_date) {
    const char* action = observed.exists ? "update" : "create";
    if (!begin(*env, action, steps.empty() ? "" : steps.front())) return {};
    if (!send_or_fail(*env, driver)) return {};
    return look_again(id, observed.look_again);
  }
  if (!observed.ready) {
    if (!steps.empty()) advance_operation(id, observed.step.empty() ? steps.back() : observed.step, observed.message);
    return look_again(id, observed.look_again);
  }
  mark_ready(id);
  return {};
}

ReconcileResult EnvironmentController::reconcile_deletion(model::Environment env, cloud::CloudDriver& driver) {
  if (env.cloud_token.empty() && env.cloud_handle.empty()) {
    // No action was ever recorded, so none was ever asked of the cloud (say,
    // the customer never let the plane in): there is nothing to remove.
    finish_deletion(env);
    settled(env.id);
    return {};
  }
  cloud::Observation observed = driver.observe(env);
  if (!observed.exists) {
    finish_deletion(env);
    settled(env.id);
    return {};
  }
  bool failed_again = observed.failure != cloud::Failure::kNone && observed.last_token == env.cloud_token;
  if (env.cloud_action != "delete" || failed_again) {
    // A fresh token: a delete the cloud gave up on is asked for anew.
    std::optional<model::Environment> recorded;
    store_.transact([&](store::Transaction& tx) {
      recorded.reset();  // this attempt's (a transaction may run again)
      auto e = tx.environments().by_id(env.id);
      if (!e) return;
      e->cloud_action = "delete";
      auto op = running_operation(tx, "environment.delete", env.id);
      e->cloud_token = action_token(op ? op->id : "");
      e->reason = failed_again ? cloud::failure_code(observed.failure) : "";
      e->message = failed_again ? observed.message : "";
      e->updated_at = clock_.unix_seconds();
      tx.environments().put(*e);
      recorded = *e;
    });
    if (!recorded) return {};  // gone meanwhile
    env = *recorded;  // the token sent is the one stored
    if (failed_again) spdlog::warn("environment {}: delete failed ({}); asking again", env.id, observed.message);
  }
  // Level-triggered: asked on every pass until nothing is left.
  driver.remove(env, env.cloud_token);
  return look_again(env.id, observed.look_again);
}

bool apply_access_check(model::Environment& env, const cloud::AccessCheck& check, int64_t now) {
  model::Environment before = env;
  env.set_condition("customer_access", check.granted, check.granted ? "granted" : check.reason, now);
  if (env.state == model::kAwaitingCustomerRole) {
    env.message = check.granted ? "" : check.message;
    if (check.granted) env.state = model::kPending;
  }
  if (env == before) return false;
  env.updated_at = now;
  return true;
}

bool EnvironmentController::record_access_check(const model::Environment& checked, const cloud::AccessCheck& check) {
  bool applied = false;
  store_.transact([&](store::Transaction& tx) {
    applied = false;
    auto e = tx.environments().by_id(checked.id);
    // Only what was checked: not an account changed meanwhile, nor an
    // environment granted (or deleted) by another path since.
    if (!e || e->state != model::kAwaitingCustomerRole || e->account != checked.account) return;
    applied = true;
    if (apply_access_check(*e, check, clock_.unix_seconds())) tx.environments().put(*e);
  });
  if (!applied) return false;
  if (check.granted) spdlog::info("environment {}: the customer's access is granted", checked.id);
  else spdlog::info("environment {}: waiting on the customer's access ({})", checked.id, check.reason);
  return check.granted;
}

bool EnvironmentController::await_customer(const model::Environment& env, cloud::CloudDriver& driver) {
  bool moved = false;
  store_.transact([&](store::Transaction& tx) {
    moved = false;
    auto e = tx.environments().by_id(env.id);
    if (!e || e->state != model::kPending || !e->cloud_token.empty()) return;
    e->state = model::kAwaitingCustomerRole;
    driver.onboard(*e);
    e->updated_at = clock_.unix_seconds();
    tx.environments().put(*e);
    moved = true;
  });
  if (moved) spdlog::info("environment {}: now awaits the customer's role", env.id);
  return moved;
}

bool EnvironmentController::send_or_fail(const model::Environment& env, cloud::CloudDriver& driver) {
  try {
    send(env, driver);
    return true;
  } catch (const Error& e) {
    // A refusal asking again won't change (the role may not, the request
    // can't be made): the environment fails with it, until retried. What
    // may pass later (unavailable, internal) is the runner's to retry.
    cloud::Failure failure;
    switch (e.kind()) {
      case ErrorKind::kForbidden: failure = cloud::Failure::kAccessDenied; break;
      case ErrorKind::kInvalid:
      case ErrorKind::kBadRequest:
      case ErrorKind::kConflict:
      case ErrorKind::kNotFound: failure = cloud::Failure::kInvalidRequest; break;
      default: throw;
    }
    cloud::Observation refused;
    refused.failure = failure;
    refused.message = e.what();
    mark_failed(env.id, refused);
    return false;
  }
}

void EnvironmentController::hold_unavailable(const std::string& id) {
  store_.transact([&](store::Transaction& tx) {
    auto e = tx.environments().by_id(id);
    if (!e) return;
    int64_t now = clock_.unix_seconds();
    if (e->set_condition("provisioned", false, "driver_not_available", now)) {
      e->updated_at = now;
      tx.environments().put(*e);
    }
    if (auto op = running_operation(tx, "environment.create", id)) {
      op->succeed(model::to_json(*e), now);
      tx.operations().put(*op);
    }
  });
}

bool EnvironmentController::begin(model::Environment& env, const std::string& action, const std::string& step) {
  std::optional<model::Environment> recorded;  // what the committed attempt recorded
  store_.transact([&](store::Transaction& tx) {
    recorded.reset();  // this attempt's (a transaction may run again)
    auto e = tx.environments().by_id(env.id);
    if (!e || e->state == model::kDeleting || e->state == model::kFailed) return;
    int64_t now = clock_.unix_seconds();
    if (e->state == model::kPending) e->state = model::kProvisioning;
    e->cloud_action = action;
    auto ops = provisioning_operations(tx, env.id);
    e->cloud_token = action_token(ops.empty() ? "" : ops.front().id);
    e->updated_at = now;
    tx.environments().put(*e);
    for (auto& op : provisioning_operations(tx, env.id)) {
      if (step.empty()) continue;
      op.advance_to(step);
      op.updated_at = now;
      tx.operations().put(op);
    }
    recorded = *e;
  });
  bool begun = recorded.has_value();
  if (begun) {
    env = *recorded;  // the action and token sent are the ones stored
    std::lock_guard lock(mutex_);
    waits_.erase(env.id);
    spdlog::info("environment {}: {} (token {})", env.id, action, env.cloud_token);
  }
  return begun;
}

void EnvironmentController::send(const model::Environment& env, cloud::CloudDriver& driver) {
  if (env.cloud_action == "create") {
    std::string handle = driver.create(env, env.cloud_token);
    if (!handle.empty() && handle != env.cloud_handle) record_handle(env.id, handle);
  } else if (env.cloud_action == "update") {
    driver.update(env, env.cloud_token);
  } else {
    throw Error::Internal("environment " + env.id + " records an unknown action '" + env.cloud_action + "'");
  }
}

void EnvironmentController::record_handle(const std::string& id, const std::string& handle) {
  store_.transact([&](store::Transaction& tx) {
    auto e = tx.environments().by_id(id);
    if (!e || e->cloud_handle == handle) return;
    e->cloud_handle = handle;
    tx.environments().put(*e);
  });
}

void EnvironmentController::advance_operation(const std::string& id, const std::string& step,
                                              const std::string& progress) {
  store_.transact([&](store::Transaction& tx) {
    int64_t now = clock_.unix_seconds();
    // How far the cloud is, shown while it works (the cloud's events, say).
    if (auto e = tx.environments().by_id(id); e && e->state == model::kProvisioning && e->message != progress) {
      e->message = progress;
      e->updated_at = now;
      tx.environments().put(*e);
    }
    for (auto& op : provisioning_operations(tx, id)) {
      op.advance_to(step);
      op.updated_at = now;
      tx.operations().put(op);
    }
  });
}

void EnvironmentController::mark_failed(const std::string& id, const cloud::Observation& observed) {
  std::string code = cloud::failure_code(observed.failure);
  store_.transact([&](store::Transaction& tx) {
    auto e = tx.environments().by_id(id);
    if (!e || e->state == model::kDeleting) return;
    int64_t now = clock_.unix_seconds();
    e->state = model::kFailed;
    e->reason = code;
    e->message = observed.message;
    e->updated_at = now;
    tx.environments().put(*e);  // the action stays recorded: a retry sends it again with a new token
    for (auto& op : provisioning_operations(tx, id)) {
      op.fail(code, observed.message.empty() ? "the cloud reported " + code : observed.message, now);
      tx.operations().put(op);
    }
  });
  spdlog::warn("environment {} FAILED: {} {}", id, code, observed.message);
  settled(id);
}

void EnvironmentController::mark_ready(const std::string& id) {
  store_.transact([&](store::Transaction& tx) {
    auto e = tx.environments().by_id(id);
    if (!e || e->state == model::kDeleting || e->state == model::kFailed) return;
    int64_t now = clock_.unix_seconds();
    if (e->state != model::kReady || !e->cloud_action.empty() || !e->reason.empty()) {
      e->state = model::kReady;
      e->cloud_action.clear();
      e->reason.clear();
      e->message.clear();
      e->updated_at = now;
      tx.environments().put(*e);
    }
    for (auto& op : provisioning_operations(tx, id)) {
      op.succeed(model::to_json(*e), now);
      tx.operations().put(op);
    }
  });
  settled(id);
}

ReconcileResult EnvironmentController::look_again(const std::string& id, std::chrono::milliseconds hint) {
  std::chrono::milliseconds base = hint.count() > 0 ? hint : kDefaultLook;
  int waits;
  {
    std::lock_guard lock(mutex_);
    waits = waits_[id]++;
  }
  double delay = static_cast<double>(base.count());
  const double longest = static_cast<double>(std::max(base, std::chrono::milliseconds(kLongestLook)).count());
  for (int i = 0; i < waits && delay < longest; ++i) delay *= kLookGrowth;
  return {std::chrono::milliseconds(static_cast<int64_t>(std::min(delay, longest)))};
}

void EnvironmentController::settled(const std::string& id) {
  std::lock_guard lock(mutex_);
  waits_.erase(id);
}

void EnvironmentController::finish_deletion(const model::Environment& environment) {
  store_.transact([&](store::Transaction& tx) {
    int64_t now = clock_.unix_seconds();
    // Operations still waiting on this environment end with it.
    for (auto& op : tx.operations().running(environment.id)) {
      if (op.kind == "environment.delete") op.succeed(nullptr, now);
      else op.fail("environment_deleted", "the environment was deleted", now);
      tx.operations().put(op);
    }
    for (const auto& s : tx.services().list(environment.id)) tx.services().remove(s.id);
    tx.environments().remove(environment.id);
    tx.publish(model::topics::kEnvironmentDeleted, environment.id);
  });
  spdlog::info("environment {} ({}) deleted", environment.name, environment.id);
}

}  // namespace byoc::controllers
