#include "agent/applier.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/files.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A runtime answers a spec it can't run with FAILED and an "unsupported_*"
// reason, before touching anything: the agent treats that as a refusal.
bool runtime_refused(const ServiceStatus& status) {
  return status.state == ServiceState::kFailed && status.reason.rfind("unsupported_", 0) == 0;
}

}  // namespace

DesiredStateApplier::DesiredStateApplier(Runtime& runtime, fs::path state_dir, EnvironmentScope scope)
    : runtime_(runtime), state_dir_(std::move(state_dir)), scope_(std::move(scope)) {
  load_accepted();
}

void DesiredStateApplier::load_accepted() {
  auto text = files::read_if_exists(state_dir_ / kAcceptedFile);
  if (!text) return;
  json j = json::parse(*text, nullptr, false);
  model::DesiredState saved;
  try {
    if (j.is_discarded()) throw Error::Invalid("invalid_value", "not JSON");
    saved = model::parse_desired_state(j);
  } catch (const Error& e) {
    throw Error::Internal((state_dir_ / kAcceptedFile).string() + " is corrupt (" + e.what() + " at " +
                          e.field() + "); move it away to accept the next desired state afresh");
  }
  environment_id_ = saved.environment_id;
  pinned_cidr_ = saved.environment_cidr;
  for (auto& s : saved.services) accepted_[s.name] = std::move(s);
}

void DesiredStateApplier::save_accepted() const {
  model::DesiredState saved;
  saved.environment_id = environment_id_;
  saved.environment_cidr = pinned_cidr_;
  for (const auto& [name, s] : accepted_) saved.services.push_back(s);
  // 0600: it holds password hashes.
  files::write_atomic(state_dir_ / kAcceptedFile, model::to_json(saved).dump() + "\n", 0600);
}

void DesiredStateApplier::set_outcome(const std::string& service, const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (reason.empty())
    outcomes_.erase(service);
  else
    outcomes_[service] = reason;
}

std::string DesiredStateApplier::run(const model::DesiredService& service) {
  const ServiceSpec& spec = service;
  {
    std::lock_guard lock(mutex_);
    auto it = applied_.find(service.name);
    if (it != applied_.end() && it->second == spec) return "";  // runs already: nothing to redo
  }
  spdlog::info("service {}: applying", service.name);
  ServiceStatus status;
  try {
    status = runtime_.apply(spec);
  } catch (const std::exception& e) {
    spdlog::error("service {}: apply failed: {}", service.name, e.what());
    return "apply_failed";
  }
  if (runtime_refused(status)) {
    spdlog::warn("service {}: the runtime refused it ({})", service.name, status.reason);
    return status.reason;
  }
  std::lock_guard lock(mutex_);
  applied_[service.name] = spec;
  return "";
}

void DesiredStateApplier::apply(const model::DesiredState& desired) {
  // The customer may have edited the policy since the last apply. A policy
  // that doesn't parse refuses every change: a typo must not loosen limits.
  std::optional<CustomerPolicy> policy;
  std::string policy_error;
  try {
    policy = load_customer_policy(state_dir_);
  } catch (const std::exception& e) {
    policy_error = e.what();
    spdlog::error("{}; refusing every change until it is fixed", policy_error);
  }
  Verdict network = check_environment_network(desired.environment_cidr, pinned_cidr_);

  bool accepted_changed = false;
  if (network.accepted() && pinned_cidr_.empty() && !desired.environment_cidr.empty()) {
    pinned_cidr_ = desired.environment_cidr;
    accepted_changed = true;
  }
  EnvironmentScope scope = scope_;
  if (!scope.loopback_only) scope.cidr = pinned_cidr_;
  if (environment_id_ != desired.environment_id) {
    environment_id_ = desired.environment_id;
    accepted_changed = true;
  }

  for (const auto& service : desired.services) {
    auto prior_it = accepted_.find(service.name);
    const model::DesiredService* prior = prior_it == accepted_.end() ? nullptr : &prior_it->second;
    Verdict verdict;  // accepted unless a check below refuses
    if (!network.accepted()) {
      verdict = network;
    } else if (policy) {
      verdict = check_service(service, prior, *policy, scope);
    } else if (!prior || *prior != service) {
      verdict = {"policy_violation", policy_error};  // an unchanged service is no change
    }

    std::string reason = verdict.reason;
    bool retry = false;
    if (verdict.accepted()) {
      reason = run(service);
      retry = reason == "apply_failed";
      // Accepted once the agent's checks pass and the runtime took it (or
      // failed mid-way: the retry converges on the same spec).
      if ((reason.empty() || retry) && (!prior || *prior != service)) {
        accepted_[service.name] = service;
        accepted_changed = true;
      }
    } else {
      spdlog::warn("service {}: refused ({}): {}", service.name, verdict.reason, verdict.detail);
    }
    if (!reason.empty() && !retry && prior && policy) {
      // Keep the last good configuration running (after an agent restart
      // nothing runs until it is applied), unless the policy now forbids it
      // too: then the runtime is left alone.
      // (Checked in the pinned scope, so a swapped environment network doesn't stop it.)
      Verdict still = check_service(*prior, prior, *policy, scope);
      if (still.accepted()) {
        retry = run(*prior) == "apply_failed";
      } else {
        spdlog::warn("service {}: its last accepted spec is refused too ({}): {}", service.name, still.reason,
                     still.detail);
      }
    }
    if (retry)
      retry_.insert(service.name);
    else
      retry_.erase(service.name);
    set_outcome(service.name, reason);
  }
  remove_undesired(desired);
  for (auto it = accepted_.begin(); it != accepted_.end();) {
    bool wanted = false;
    for (const auto& s : desired.services) wanted = wanted || s.name == it->first;
    if (wanted) {
      ++it;
    } else {
      it = accepted_.erase(it);
      accepted_changed = true;
    }
  }
  for (auto it = retry_.begin(); it != retry_.end();)
    it = accepted_.count(*it) ? std::next(it) : retry_.erase(it);
  if (accepted_changed) save_accepted();
  last_desired_ = desired;
  std::lock_guard lock(mutex_);
  for (auto it = outcomes_.begin(); it != outcomes_.end();) {
    bool wanted = false;
    for (const auto& s : desired.services) wanted = wanted || s.name == it->first;
    it = wanted ? std::next(it) : outcomes_.erase(it);
  }
  applied_revision_ = desired.revision;
}

void DesiredStateApplier::remove_undesired(const model::DesiredState& desired) {
  removal_failed_ = false;
  std::vector<std::string> present;
  try {
    present = runtime_.services();
  } catch (const std::exception& e) {
    spdlog::error("cannot list the runtime's services: {}", e.what());
    removal_failed_ = true;
    return;
  }
  for (const auto& name : present) {
    bool wanted = false;
    for (const auto& s : desired.services) wanted = wanted || s.name == name;
    if (wanted) continue;
    spdlog::info("service {}: removing", name);
    try {
      runtime_.remove(name);
      std::lock_guard lock(mutex_);
      applied_.erase(name);
    } catch (const std::exception& e) {
      spdlog::error("service {}: removal failed: {}", name, e.what());
      removal_failed_ = true;
    }
  }
}

void DesiredStateApplier::retry_failed() {
  if (!last_desired_) return;
  for (auto it = retry_.begin(); it != retry_.end();) {
    auto spec = accepted_.find(*it);
    if (spec == accepted_.end() || run(spec->second) != "apply_failed") {
      std::lock_guard lock(mutex_);
      // A refusal stays reported; only the failure itself is over.
      if (auto o = outcomes_.find(*it); o != outcomes_.end() && o->second == "apply_failed")
        outcomes_.erase(o);
      it = retry_.erase(it);
    } else {
      ++it;
    }
  }
  if (removal_failed_) remove_undesired(*last_desired_);
}

std::map<std::string, std::string> DesiredStateApplier::outcomes() const {
  std::lock_guard lock(mutex_);
  return outcomes_;
}

std::map<std::string, ServiceSpec> DesiredStateApplier::applied() const {
  std::lock_guard lock(mutex_);
  return applied_;
}

int64_t DesiredStateApplier::applied_revision() const {
  std::lock_guard lock(mutex_);
  return applied_revision_;
}

}  // namespace byoc::agent
