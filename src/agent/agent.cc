#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "agent/renewal.h"
#include "agent/report.h"
#include "agent/state_layout.h"
#include "agent/sync_client.h"
#include "base/error.h"
#include "base/files.h"
#include "base/host.h"

namespace byoc::agent {
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
// Intervals per report: well inside the protocol's limit, oldest first.
constexpr size_t kUsagePerReport = 1000;
// Between two syncs ended early to report gateway refusals or Kubernetes requests.
constexpr std::chrono::seconds kDenialReportPause{1};
// After a failed certificate renewal (the certificate has days left).
constexpr std::chrono::seconds kRenewalRetry{300};
// What the environment can reach for an engineer: ClickHouse's system
// tables always, the Kubernetes API where the services run on one.
std::vector<std::string> served_scopes(const AgentConfig& config) {
  std::vector<std::string> scopes = {model::kScopeClickhouseSystem};
  if (config.gateway.kubernetes_api) scopes.push_back(model::kScopeKubernetesReadonly);
  return scopes;
}

}  // namespace

Agent::Agent(AgentConfig config, AgentIdentity identity, std::unique_ptr<Runtime> runtime, const Clock& clock,
             const std::atomic<bool>& stop)
    : config_(std::move(config)),
      identity_(std::move(identity)),
      runtime_(std::move(runtime)),
      stop_(stop),
      clock_(clock),
      servers_(config_.server_urls, config_.state_dir / layout::kServers, std::random_device{}()),
      applier_(*runtime_, config_.state_dir, config_.scope),
      support_(config_.state_dir, identity_.environment_id, clock, served_scopes(config_)),
      gateway_(config_.state_dir, support_, clock, config_.gateway),
      audit_(config_.state_dir, identity_.environment_id),
      meter_(clock),
      ledger_(config_.state_dir / layout::kUsage, clock) {
  if (auto cached = files::read_if_exists(config_.state_dir / layout::kDesired)) {
    try {
      model::DesiredState d = model::parse_desired_state(json::parse(*cached));
      if (d.environment_id == identity_.environment_id)
        desired_ = std::move(d);
      else
        spdlog::error("ignoring a cached desired state of another environment");
    } catch (const std::exception& e) {
      spdlog::error("ignoring unreadable cached desired state: {}", e.what());
    }
  }
}

void Agent::run() {
  gateway_.start();
  // Before any service is applied: each renders its gateway from the start.
  update_gateway();
  std::thread supervisor([this] { supervise_loop(); });
  // Serve from the cache at once: the data plane doesn't wait for the management plane.
  if (desired_) applier_.apply(*desired_);
  sync_loop();
  supervisor.join();
  spdlog::info("stopping services");
  runtime_->stop_all();
  gateway_.stop();  // after the gateways: none is left asking
}

void Agent::update_gateway() {
  try {
    // Every time, changed or not: the runtime retries what it could not do
    // the last time (and does nothing when all is in place).
    runtime_->set_support_gateway(gateway_.current());
  } catch (const std::exception& e) {
    // Tried again with the next report; the gateways keep what they had.
    spdlog::error("cannot update the support gateways: {}", e.what());
  }
}

std::vector<ServiceStatus> Agent::observe() {
  std::lock_guard lock(observe_mutex_);
  try {
    return runtime_->observe();
  } catch (const std::exception& e) {
    spdlog::error("cannot observe the runtime: {}", e.what());
    return {};
  }
}

namespace {

// A service on its way to READY ("stopped" is not on its way anywhere).
bool converging(const std::vector<ServiceStatus>& observed) {
  return std::any_of(observed.begin(), observed.end(), [](const ServiceStatus& s) {
    return s.state == ServiceState::kProvisioning && s.reason != "stopped";
  });
}

// The fast cadence lasts this long into one convergence: a start takes
// seconds; one that never ends must not be probed 50 times a second forever.
constexpr std::chrono::seconds kFastSupervision{60};

}  // namespace

void Agent::supervise_loop() {
  auto next_sample = clock_.monotonic_time();
  converging_since_ = next_sample;  // an agent starting up converges from now
  while (!stop_) {
    try {
      runtime_->supervise();
    } catch (const std::exception& e) {
      spdlog::error("supervision failed: {}", e.what());
    }
    // Refusals of an engineer's certificate and an engineer's Kubernetes
    // requests go on the record promptly: they end a held sync, at most once
    // a second whatever their rate. The others (no certificate, a
    // stranger's) wait for the next regular sync.
    if ((gateway_.denials().has_unreported_named() || gateway_.kube_requests().has_unreported()) &&
        clock_.monotonic_time() - denials_woke_ >= kDenialReportPause) {
      denials_woke_ = clock_.monotonic_time();
      std::lock_guard lock(reported_mutex_);
      cancel_sync_ = true;
    }
    const bool sample_due = clock_.monotonic_time() >= next_sample;
    if (sample_due || converging_) {
      std::vector<ServiceStatus> observed = observe();
      if (sample_due) {
        meter_.sample(running_replicas(observed, applier_.applied()));
        next_sample = clock_.monotonic_time() + config_.usage_sample_period;
      }
      watch(observed);
    }
    const bool fast = converging_ && clock_.monotonic_time() - converging_since_.load() < kFastSupervision;
    clock_.sleep_for(fast ? config_.converging_period : config_.supervise_period, &stop_);
  }
  std::lock_guard lock(reported_mutex_);  // not lost to a build_report() storing its own value
  cancel_sync_ = true;  // a held sync ends now, not when the server answers
}

void Agent::watch(const std::vector<ServiceStatus>& observed) {
  std::lock_guard lock(reported_mutex_);
  if (observed != reported_) cancel_sync_ = true;
  set_converging_locked(converging(observed));
}

void Agent::set_converging_locked(bool now_converging) {
  if (now_converging && !converging_) converging_since_ = clock_.monotonic_time();
  converging_ = now_converging;
}

model::SyncRequest Agent::build_report(int64_t seq) {
  std::vector<ServiceStatus> observed = observe();
  {
    // From here on a change is news: the supervision thread cancels this sync for it.
    std::lock_guard lock(reported_mutex_);
    reported_ = observed;
    cancel_sync_ = stop_.load();
    set_converging_locked(converging(observed));  // e.g. what an apply just issued
  }
  meter_.sample(running_replicas(observed, applier_.applied()));
  ledger_.record(meter_.cut());
  model::SyncRequest report;
  report.known_revision = desired_ ? desired_->revision : 0;
  report.seq = seq;
  report.status.applied_revision = applier_.applied_revision();
  report.status.environment_ca_pem = config_.environment_ca_pem;
  report.status.host = this_host_capacity();
  // Grants are decided here, just before their outcome goes up: a new
  // desired state's at once, and any that waited (an unreadable policy.json)
  // once the customer fixed it.
  // An audit log that did not verify refuses every new grant (fail closed).
  if (desired_) support_.decide(desired_->grants, audit_.consistent() ? "" : "audit_inconsistent");
  report.status.access = support_.reported_policy();
  report.status.support_ca_pem = support_.ca_pem();
  report.status.grants = support_.outcomes();
  // Revoked, done or expired grants leave the CRL's list here (decided just above).
  update_gateway();
  try {
    report.gateway_denials = gateway_.denials().pending(model::kMaxGatewayDenials);
  } catch (const std::exception& e) {
    spdlog::error("cannot record gateway refusals: {}", e.what());  // they stay pending in memory
  }
  try {
    report.kube_requests = gateway_.kube_requests().pending(model::kMaxKubeRequests);
  } catch (const std::exception& e) {
    spdlog::error("cannot record Kubernetes requests: {}", e.what());  // they stay pending in memory
  }
  report.known_audit_size = static_cast<int64_t>(audit_.kept_size());
  if (!audit_.consistent() || audit_.kept_size() > 0) report.status.audit = audit_.consistent() ? "consistent" : "inconsistent";
  if (desired_) report.status.services = reported_services(*desired_, observed, applier_.outcomes());
  report.usage = ledger_.pending(kUsagePerReport);
  return report;
}

void Agent::renew_if_due(std::optional<SyncClient>& client) {
  if (clock_.monotonic_time() < next_renewal_attempt_ || !renewal_due(identity_.certificate_pem, clock_.system_time()))
    return;
  try {
    identity_ = renew_certificate(config_.state_dir, servers_.current(), identity_, &stop_);
    client.emplace(servers_.current(), identity_, &cancel_sync_);
  } catch (const std::exception& e) {
    // The current certificate still works: try again later, not on every sync.
    spdlog::warn("certificate renewal failed ({}); trying again in {} s", e.what(), kRenewalRetry.count());
    next_renewal_attempt_ = clock_.monotonic_time() + kRenewalRetry;
  }
}

void Agent::sync_loop() {
  std::optional<SyncClient> client;
  client.emplace(servers_.current(), identity_, &cancel_sync_);
  RetryBackoff backoff;
  int64_t seq = 0;
  while (!stop_) {
    applier_.retry_failed();
    renew_if_due(client);
    try {
      model::SyncResponse answer = client->sync(build_report(++seq));
      if (backoff.failures() > 0)
        spdlog::info("management plane reachable again after {} failed attempt(s)", backoff.failures());
      backoff.reset();
      if (servers_.update(answer.servers)) client.emplace(servers_.current(), identity_, &cancel_sync_);
      ledger_.acknowledge(answer.usage_acked_seq);
      gateway_.denials().acknowledge(answer.denials_acked_seq);
      gateway_.kube_requests().acknowledge(answer.kube_requests_acked_seq);
      if (answer.audit) {
        audit_.offer_key(answer.audit->key);
        audit_.accept(answer.audit->checkpoint, answer.audit->consistency);
      }
      if (answer.desired) accept(*answer.desired);
    } catch (const std::exception& e) {
      if (stop_) break;
      // Cancelled because the status changed (build_report clears the flag):
      // report again at once, this is no failure of the server.
      if (cancel_sync_) continue;
      auto delay = backoff.next_delay();
      // The cached desired state keeps serving meanwhile, and the next try
      // goes to the next server of the plane: the first such move waits
      // half as long (still jittered, so a dead server's agents reach the
      // others spread out), since it is another server that is asked.
      bool fail_over = servers_.all().size() > 1;
      if (fail_over && backoff.failures() == 1) delay /= 2;
      if (backoff.failures() == 1 || backoff.failures() % 10 == 0)
        spdlog::warn("sync failed ({}; server {}), retrying in {} ms", e.what(), servers_.current(), delay.count());
      if (fail_over) {
        servers_.failed();
        client.emplace(servers_.current(), identity_, &cancel_sync_);
      }
      clock_.sleep_for(delay, &stop_);
    }
  }
}

void Agent::accept(const model::DesiredState& desired) {
  if (desired.environment_id != identity_.environment_id) {
    spdlog::error("refusing a desired state for another environment");
    return;
  }
  // Already processed (a reconnect, a retried answer): nothing to apply again.
  if (desired_ && *desired_ == desired && applier_.applied_revision() == desired.revision) return;
  files::write_atomic(config_.state_dir / layout::kDesired, model::to_json(desired).dump(), 0600);
  desired_ = desired;
  spdlog::info("desired state revision {}", desired.revision);
  // Grants first: a revoked one is refused at the gateways before any
  // service work (which may take a while) is even started.
  support_.decide(desired.grants, audit_.consistent() ? "" : "audit_inconsistent");
  update_gateway();
  applier_.apply(desired);
}

}  // namespace byoc::agent
