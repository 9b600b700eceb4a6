// FakeRuntime: a Runtime in memory — no process, no file, no clock — that
// keeps the runtime contract (runtime.h) the way a real runtime does,
// asynchronously: apply() records the spec and returns with the service
// PROVISIONING ("starting", its replicas STARTING); observe() reports it
// READY only once the test says the work has converged (converge()), so a
// test sees what the agent and the management plane do in between. Failures
// are injected: apply() throwing (a fault of the runtime itself), a service
// giving up (FAILED, replica_failed), and the refusals the local runtime
// makes (an unknown version, a changed topology: FAILED unsupported_*,
// nothing touched).
//
// Its "disk" (FakeRuntime::Disk) outlives a runtime object, as the local
// runtime's root outlives an agent process: a runtime made on the same disk
// finds the services the last one left, still running (as after a crash,
// processes keep running and are adopted) or stopped by stop_all().
//
// Thread-safe: the agent calls it from its sync and supervision threads
// while the test drives and inspects it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/runtime.h"
#include "base/error.h"

namespace byoc::agent::test {

class FakeRuntime final : public Runtime {
 public:
  static constexpr const char* kVersion = "18.16.1";  // the only version it runs
  static constexpr const char* kEndpoint = "https://127.0.0.1:4443";
  static constexpr const char* kSupportGateway = "https://127.0.0.1:4444";

  struct Service {
    ServiceSpec spec;  // the last spec applied: what serves once converged
    ServiceState state = ServiceState::kProvisioning;
    std::string reason = "starting";
  };
  struct Disk {
    std::mutex mutex;  // guards everything of every runtime on this disk
    std::map<std::string, Service> services;
    SupportGateway gateway;  // as the agent last set it
  };

  explicit FakeRuntime(std::shared_ptr<Disk> disk = std::make_shared<Disk>()) : disk_(std::move(disk)) {}

  ServiceStatus apply(const ServiceSpec& spec) override {
    std::lock_guard lock(disk_->mutex);
    applied_.push_back(spec);
    if (fail_applies_ > 0) {
      --fail_applies_;
      throw Error::Internal("disk full");
    }
    if (spec.clickhouse_version != kVersion) return refused(spec.name, "unsupported_version");
    auto it = disk_->services.find(spec.name);
    if (it != disk_->services.end() &&
        (it->second.spec.shards != spec.shards || it->second.spec.replicas != spec.replicas))
      return refused(spec.name, "unsupported_topology");
    Service& service = disk_->services[spec.name];
    // Nothing to change: as a real runtime, it stays READY.
    if (it != disk_->services.end() && service.spec == spec && service.state == ServiceState::kReady)
      return status_of(service);
    service = Service{spec};
    return status_of(service);
  }

  void set_support_gateway(const SupportGateway& gateway) override {
    std::lock_guard lock(disk_->mutex);
    disk_->gateway = gateway;
  }

  void remove(const std::string& name) override {
    std::lock_guard lock(disk_->mutex);
    removed_.push_back(name);
    disk_->services.erase(name);
  }

  std::vector<ServiceStatus> observe() override {
    std::lock_guard lock(disk_->mutex);
    std::vector<ServiceStatus> out;
    for (const auto& [name, service] : disk_->services) out.push_back(status_of(service));
    return out;
  }

  std::vector<std::string> services() override {
    std::lock_guard lock(disk_->mutex);
    std::vector<std::string> out;
    for (const auto& [name, service] : disk_->services) out.push_back(name);
    return out;
  }

  void supervise() override {}

  void stop_all() override {
    std::lock_guard lock(disk_->mutex);
    ++stop_alls_;
    for (auto& [name, service] : disk_->services) service = Service{service.spec, ServiceState::kProvisioning, "stopped"};
  }

  // ---- driving it ----

  // The work apply() issued for `name` is done: READY, every replica RUNNING.
  // False if the runtime has no such service.
  bool converge(const std::string& name) {
    return set_state(name, ServiceState::kReady, "");
  }
  // A replica gave up: FAILED, replica_failed.
  bool fail(const std::string& name) { return set_state(name, ServiceState::kFailed, "replica_failed"); }
  // The next `n` apply() calls throw byoc::Error (a fault of the runtime).
  void fail_next_applies(int n) {
    std::lock_guard lock(disk_->mutex);
    fail_applies_ = n;
  }

  // ---- inspecting it ----

  // Every spec apply() was given by this runtime object, in order.
  std::vector<ServiceSpec> applied() const {
    std::lock_guard lock(disk_->mutex);
    return applied_;
  }
  std::vector<std::string> removed() const {
    std::lock_guard lock(disk_->mutex);
    return removed_;
  }
  bool has(const std::string& name) const {
    std::lock_guard lock(disk_->mutex);
    return disk_->services.count(name) > 0;
  }
  // The spec the runtime runs (or is converging to) for `name`: what a query
  // would meet. Throws std::out_of_range when there is none.
  ServiceSpec spec(const std::string& name) const {
    std::lock_guard lock(disk_->mutex);
    return disk_->services.at(name).spec;
  }
  std::optional<ServiceStatus> status(const std::string& name) const {
    std::lock_guard lock(disk_->mutex);
    auto it = disk_->services.find(name);
    if (it == disk_->services.end()) return std::nullopt;
    return status_of(it->second);
  }
  SupportGateway gateway() const {
    std::lock_guard lock(disk_->mutex);
    return disk_->gateway;
  }
  int stop_alls() const {
    std::lock_guard lock(disk_->mutex);
    return stop_alls_;
  }

 private:
  static ServiceStatus refused(const std::string& name, const std::string& reason) {
    return {name, ServiceState::kFailed, "", "", reason, {}};
  }

  ServiceStatus status_of(const Service& service) const {
    ServiceStatus s{service.spec.name, service.state, kEndpoint, "", service.reason, {}};
    if (disk_->gateway.enabled) s.support_gateway = kSupportGateway;
    ReplicaState replicas = service.state == ServiceState::kReady ? ReplicaState::kRunning
                            : service.reason == "stopped"         ? ReplicaState::kStopped
                                                                  : ReplicaState::kStarting;
    for (int shard = 1; shard <= service.spec.shards; ++shard)
      for (int replica = 1; replica <= service.spec.replicas; ++replica)
        s.replicas.push_back({shard, replica, replicas, 0});
    if (service.state == ServiceState::kFailed) s.replicas[0].state = ReplicaState::kFailed;
    return s;
  }

  bool set_state(const std::string& name, ServiceState state, const std::string& reason) {
    std::lock_guard lock(disk_->mutex);
    auto it = disk_->services.find(name);
    if (it == disk_->services.end()) return false;
    it->second.state = state;
    it->second.reason = reason;
    return true;
  }

  std::shared_ptr<Disk> disk_;
  std::vector<ServiceSpec> applied_;  // guarded by disk_->mutex
  std::vector<std::string> removed_;  // guarded by disk_->mutex
  int fail_applies_ = 0;              // guarded by disk_->mutex
  int stop_alls_ = 0;                 // guarded by disk_->mutex
};

}  // namespace byoc::agent::test
