// The local runtime: version rollouts (local_runtime.h, "Versions"). Each
// step moves one replica through its phases (rollout_record.h), one phase
// per supervise() round, each persisted before it acts, so a restarted
// runtime picks the step up where it stood: the phases are idempotent (a
// drain already confirmed confirms at once, a replica already stopped stops
// at once, one already started on its version is adopted).
#include "agent/runtimes/local/local_runtime_impl.h"

namespace byoc::agent::local_impl {
namespace {

using local::Gate;
using local::StepPhase;

// Bounds of the gates, from the moment the replica was started: a
// clickhouse-server starts in ~0.1 s (longer with many parts); a queue
// catches up with what was written while it was out.
constexpr std::chrono::seconds kStartBound{30};
constexpr std::chrono::seconds kPingBound{60};
constexpr std::chrono::seconds kReplicationQueueBound{120};
constexpr std::chrono::seconds kClusterBound{60};

std::chrono::seconds bound_of(Gate gate) {
  switch (gate) {
    case Gate::kStart: return kStartBound;
    case Gate::kPing: return kPingBound;
    case Gate::kReplicationQueue: return kReplicationQueueBound;
    case Gate::kCluster: return kClusterBound;
  }
  return kStartBound;
}

std::optional<Gate> next_gate(Gate gate) {
  switch (gate) {
    case Gate::kStart: return Gate::kPing;
    case Gate::kPing: return Gate::kReplicationQueue;
    case Gate::kReplicationQueue: return Gate::kCluster;
    case Gate::kCluster: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

void LocalRuntime::load_versions_locked(const std::string& name, Service& service,
                                        const std::optional<ServiceSpec>& previous,
                                        const local::RunningVersion& target) {
  ServiceLayout l = layout(name);
  // What replicas of an earlier runtime run: the version of the spec they
  // were started for (this runtime's binary when versions.json no longer has it).
  local::RunningVersion before = target;
  if (previous) {
    if (auto v = resolve_version(*previous)) {
      before = *v;
    } else {
      before = local::running_version(previous->clickhouse_version,
                                      *default_versions().find(kDefaultClickHouseVersion), previous->cpu_millis,
                                      previous->memory_mib);
    }
  }
  // Records written before sizes rolled ran at the previous spec's size.
  auto sized = [&before](local::RunningVersion v) {
    if (v.cpu_millis == 0 || v.memory_mib == 0) {
      v.cpu_millis = before.cpu_millis;
      v.memory_mib = before.memory_mib;
    }
    return v;
  };
  for (const auto& r : local::replicas_of(service.spec)) {
    if (service.versions.count(r.name)) continue;
    std::optional<local::RunningVersion> v = local::load_running_version(l.replica_version_file(r.name));
    if (!v) {
      // A replica that never ran starts on the target at once.
      v = fs::exists(l.replica_data(r.name) / "metadata") ? before : target;
      files::ensure_dir(l.replica_dir(r.name), 0700);
      local::save_running_version(l.replica_version_file(r.name), *v);
    }
    service.versions[r.name] = sized(*v);
  }
  if (!service.rollout) {
    service.rollout = local::load_rollout(l.rollout_file());
    if (service.rollout) {
      service.rollout->target = sized(service.rollout->target);
      service.rollout->step_from = sized(service.rollout->step_from);
      service.rollout->step_to = sized(service.rollout->step_to);
      if (service.rollout->phase != StepPhase::kNone) service.drained.insert(service.rollout->step_replica);
    }
  }
}

void LocalRuntime::plan_rollout_locked(const std::string& name, Service& service,
                                       const local::RunningVersion& target) {
  ServiceLayout l = layout(name);
  bool restart_needed = false;
  // A replica alone in its shard would take the shard down to restart: a
  // new size reaches it without one — its limits at once (users.xml, which
  // ClickHouse reloads), its cache sizes when it next starts.
  const bool alone = service.spec.replicas == 1;
  for (auto& [replica, version] : service.versions) {
    const bool in_step = service.rollout && service.rollout->phase != StepPhase::kNone &&
                         service.rollout->step_replica == replica;
    if (in_step) {
      if (!version.same_process(target)) restart_needed = true;
    } else if (version.same_process(target) ? version.name != target.name : alone && version.same_program(target)) {
      // Another name, or (alone) another size, for what it runs: nothing to restart.
      version = target;
      local::save_running_version(l.replica_version_file(replica), version);
    } else if (!version.same_process(target)) {
      restart_needed = true;
    }
  }
  const ServiceSpec& spec = service.spec;
  const std::string id = spec.rollout ? spec.rollout->id : "";
  const int64_t not_after = spec.rollout ? spec.rollout->not_after : 0;
  std::optional<local::RolloutRecord>& current = service.rollout;
  const bool step_under_way = current && current->phase != StepPhase::kNone;
  if (current && current->id == id && current->target == target) {
    current->not_after = not_after;  // a moved window; the next round decides
  } else if (!spec.rollout && !restart_needed && !step_under_way) {
    current.reset();
    std::error_code ec;
    fs::remove(l.rollout_file(), ec);
    service.wiring.versions = service.versions;
    return;
  } else {
    local::RolloutRecord next;
    next.id = id;
    next.not_after = not_after;
    next.target = target;
    next.state = restart_needed ? "rolling" : "done";
    if (step_under_way) {
      // The step under way ends first (on its own versions), then the new target rolls.
      next.state = "rolling";
      next.phase = current->phase;
      next.step_replica = current->step_replica;
      next.step_from = current->step_from;
      next.step_to = current->step_to;
    }
    spdlog::info("local runtime: {} rolls to version {} at {}m CPU, {} MiB (rollout '{}')", name, target.name,
                 target.cpu_millis, target.memory_mib, id);
    current = next;
  }
  save_rollout_locked(name, service);
  service.wiring.versions = service.versions;
}

void LocalRuntime::save_rollout_locked(const std::string& name, const Service& service) {
  if (service.rollout) local::save_rollout(layout(name).rollout_file(), *service.rollout);
}

void LocalRuntime::advance_rollouts() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, service] : services_)
      if (service.rollout && (service.rollout->phase != StepPhase::kNone || service.rollout->state == "rolling" ||
                              service.rollout->state == "waiting"))
        names.push_back(name);
  }
  for (const auto& name : names) {
    try {
      advance_rollout(name);
    } catch (const std::exception& e) {
      spdlog::error("local runtime: the rollout of {} cannot advance now: {}", name, e.what());
    }
  }
}

void LocalRuntime::advance_rollout(const std::string& name) {
  std::unique_lock lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end() || !it->second.rollout) return;
  Service& service = it->second;
  local::RolloutRecord& rollout = *service.rollout;
  const std::string replica = rollout.step_replica;
  switch (rollout.phase) {
    case StepPhase::kNone:
      begin_step_locked(name, service);
      return;
    case StepPhase::kDrain:
      if (!endpoint_confirmed_locked(name, service)) return;
      rollout.phase = StepPhase::kStop;
      save_rollout_locked(name, service);
      return;
    case StepPhase::kStop:
    case StepPhase::kRestore: {
      const StepPhase phase = rollout.phase;
      stop_step_replica(lock, name);
      auto again = services_.find(name);
      if (again == services_.end() || !again->second.rollout || again->second.rollout->phase != phase) return;
      Service& s = again->second;
      local::RolloutRecord& r = *s.rollout;
      r.phase = phase == StepPhase::kStop ? StepPhase::kStart : StepPhase::kRestoreReturn;
      save_rollout_locked(name, s);
      if (phase == StepPhase::kRestore) restart_on_locked(name, s, replica, r.step_from);
      return;
    }
    case StepPhase::kStart:
      rollout.phase = StepPhase::kGates;
      save_rollout_locked(name, service);
      restart_on_locked(name, service, replica, rollout.step_to);
      service.gate = Gate::kStart;
      service.gate_deadline.reset();
      return;
    case StepPhase::kGates:
      lock.unlock();
      check_gate(name);
      return;
    case StepPhase::kReturn:
    case StepPhase::kRestoreReturn:
      // After a restart, the step's replica is started by nobody else.
      if (!supervisor_.info(replica_key(name, replica))) run_replica_locked(name, replica);
      if (!return_to_endpoint_locked(name, service, replica)) return;
      spdlog::info("local runtime: {}/{} serves again on version {}", name, replica,
                   service.versions.at(replica).name);
      rollout.phase = StepPhase::kNone;
      rollout.step_replica.clear();
      save_rollout_locked(name, service);
      return;
  }
}

void LocalRuntime::begin_step_locked(const std::string& name, Service& service) {
  local::RolloutRecord& rollout = *service.rollout;
  if (rollout.state == "failed" || rollout.state == "done") return;
  std::optional<local::ReplicaRef> next;
  for (const auto& r : local::replicas_of(service.spec))
    if (!service.versions.at(r.name).same_process(rollout.target)) {
      next = r;
      break;
    }
  if (!next) {
    rollout.state = "done";
    save_rollout_locked(name, service);
    spdlog::info("local runtime: {} runs version {} on every replica", name, rollout.target.name);
    return;
  }
  const std::string state =
      rollout.not_after > 0 && options_.clock->unix_seconds() >= rollout.not_after ? "waiting" : "rolling";
  if (state != rollout.state) {
    rollout.state = state;
    save_rollout_locked(name, service);
  }
  if (state == "waiting") return;
  // Never a second replica out: every other one answers and the endpoint
  // serves what is on disk; and none is still joining (it serves nothing yet).
  if (service.start_wanted || !service.joining.empty() || !replicas_answer_locked(name, service) ||
      !endpoint_confirmed_locked(name, service))
    return;
  rollout.phase = StepPhase::kDrain;
  rollout.step_replica = next->name;
  rollout.step_from = service.versions.at(next->name);
  rollout.step_to = rollout.target;
  save_rollout_locked(name, service);
  spdlog::info("local runtime: {}/{} leaves the endpoint to move from version {} to {}", name, next->name,
               rollout.step_from.name, rollout.step_to.name);
  service.drained.insert(next->name);
  sync_endpoint_locked(name, service);
}

void LocalRuntime::check_gate(const std::string& name) {
  replicas::ReplicaAccess access;
  Gate gate;
  {
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it == services_.end() || !it->second.rollout || it->second.rollout->phase != StepPhase::kGates) return;
    Service& service = it->second;
    const std::string replica = service.rollout->step_replica;
    const MonotonicTime now = options_.clock->monotonic_time();
    auto info = supervisor_.info(replica_key(name, replica));
    if (!info) {
      // Adopted after a restart, or started now on its recorded version.
      run_replica_locked(name, replica);
      info = supervisor_.info(replica_key(name, replica));
    }
    if (!service.gate_deadline) service.gate_deadline = now + bound_of(service.gate);
    // The process must start and stay up through every gate.
    const bool up = info && info->state == ProcessState::kRunning && info->consecutive_failures == 0;
    if (!up) {
      fail_step_locked(name, service, Gate::kStart);
      return;
    }
    if (service.gate == Gate::kStart) {
      service.gate = Gate::kPing;
      service.gate_deadline = now + bound_of(Gate::kPing);
    }
    gate = service.gate;
    access.http_port = service.wiring.ports.replicas.at(replica).http;
    access.user = local::kClusterUser;
    access.password = service.wiring.cluster_password;
    access.replicated = service.wiring.zookeeper_port > 0;
  }
  const bool passed = local::gate_passes(gate, access);
  std::lock_guard lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end() || !it->second.rollout || it->second.rollout->phase != StepPhase::kGates ||
      it->second.gate != gate)
    return;
  Service& service = it->second;
  const MonotonicTime now = options_.clock->monotonic_time();
  if (!passed) {
    if (now >= *service.gate_deadline) fail_step_locked(name, service, gate);
    return;
  }
  if (auto next = next_gate(gate)) {
    service.gate = *next;
    service.gate_deadline = now + bound_of(*next);
    return;
  }
  spdlog::info("local runtime: {}/{} passed its gates on version {}", name, service.rollout->step_replica,
               service.rollout->step_to.name);
  service.rollout->phase = StepPhase::kReturn;
  save_rollout_locked(name, service);
}

void LocalRuntime::fail_step_locked(const std::string& name, Service& service, Gate gate) {
  local::RolloutRecord& rollout = *service.rollout;
  for (const auto& r : local::replicas_of(service.spec))
    if (r.name == rollout.step_replica) {
      rollout.failed_shard = r.shard;
      rollout.failed_replica = r.replica;
    }
  rollout.failed_check = local::to_string(gate);
  rollout.state = "failed";
  rollout.phase = StepPhase::kRestore;
  save_rollout_locked(name, service);
  spdlog::warn("local runtime: {}/{} failed its {} check on version {}; back to {}, rollout '{}' stopped", name,
               rollout.step_replica, rollout.failed_check, rollout.step_to.name, rollout.step_from.name,
               rollout.id);
}

void LocalRuntime::stop_step_replica(std::unique_lock<std::mutex>& lock, const std::string& name) {
  const std::string replica = services_.at(name).rollout->step_replica;
  ServiceLayout l = layout(name);
  std::optional<pid_t> pid = supervisor_.release(replica_key(name, replica));
  if (!pid) pid = local::Supervisor::find_running(l.replica_pid_file(replica), clickhouse_marker(l, replica));
  if (!pid) return;
  lock.unlock();
  local::StopPlan plan;
  plan.replicas.emplace_back(*pid, l.replica_pid_file(replica));
  local::stop_in_order(plan);  // graceful, bounded (killed after its grace)
  lock.lock();
}

void LocalRuntime::restart_on_locked(const std::string& name, Service& service, const std::string& replica,
                                     const local::RunningVersion& version) {
  // The version first: a runtime that restarts from here starts the replica on it.
  local::save_running_version(layout(name).replica_version_file(replica), version);
  service.versions[replica] = version;
  service.wiring.versions = service.versions;
  rewrite_locked(name, service);
  // A process left from a failed start (in backoff) is replaced by a fresh one.
  if (auto pid = supervisor_.release(replica_key(name, replica)); pid && proc::is_alive(*pid)) {
    local::StopPlan plan;
    plan.replicas.emplace_back(*pid, layout(name).replica_pid_file(replica));
    local::stop_in_order(plan);
  }
  run_replica_locked(name, replica);
  service.gate = local::Gate::kStart;
  service.gate_deadline.reset();
}

bool LocalRuntime::return_to_endpoint_locked(const std::string& name, Service& service,
                                             const std::string& replica) {
  if (service.drained.erase(replica)) sync_endpoint_locked(name, service);
  return service.wiring.healthy.count(replica) > 0 && endpoint_confirmed_locked(name, service);
}

bool LocalRuntime::endpoint_confirmed_locked(const std::string& name, const Service& service) const {
  auto info = supervisor_.info(endpoint_key(name));
  return info && info->state == ProcessState::kRunning && !service.reload_wanted &&
         old_config_gone(service.old_workers);
}

void LocalRuntime::report_rollout(const std::string& name, ServiceStatus& status) {
  std::lock_guard lock(mu_);
  if (auto refused = refused_rollouts_.find(name); refused != refused_rollouts_.end()) {
    status.rollout = refused->second;
    return;
  }
  auto it = services_.find(name);
  if (it == services_.end() || !it->second.rollout) return;
  const Service& service = it->second;
  const local::RolloutRecord& rollout = *service.rollout;
  int done = 0, total = 0;
  for (const auto& r : local::replicas_of(service.spec)) {
    ++total;
    bool in_step = rollout.phase != StepPhase::kNone && rollout.step_replica == r.name;
    if (!in_step && service.versions.at(r.name).same_process(rollout.target)) ++done;
  }
  if (!rollout.id.empty())
    status.rollout = model::ReportedRollout{rollout.id,           rollout.state,          done, total,
                                            rollout.failed_shard, rollout.failed_replica, rollout.failed_check};
  report_rollout_state(rollout.state, rollout.phase != StepPhase::kNone, status);
}

}  // namespace byoc::agent::local_impl
