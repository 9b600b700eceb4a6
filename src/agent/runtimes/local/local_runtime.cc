// The local runtime's coordinator: apply, remove, observe, supervise and
// stop, in terms of the parts in local_runtime_*.cc (see local_runtime_impl.h).
#include "agent/runtimes/local/local_runtime_impl.h"

namespace byoc::agent::local_impl {

ServiceStatus LocalRuntime::apply(const ServiceSpec& spec) {
  local::check_service_spec(spec);
  std::optional<local::RunningVersion> target = resolve_version(spec);
  if (!target) {
    ServiceStatus status = refused(spec.name, "unsupported_version");
    if (spec.rollout) {
      status.rollout = unknown_version_rollout(spec);
      std::lock_guard lock(mu_);
      refused_rollouts_[spec.name] = *status.rollout;
    }
    return status;
  }
  if (topology_changes(spec)) return refused(spec.name, "unsupported_topology");
  const bool replicated = local::needs_zookeeper(spec);
  // Replicas adopted from an earlier runtime that answer now keep receiving
  // traffic while this runtime learns about them.
  std::set<std::string> answering = answering_replicas(spec);
  bool out_of_ports = false;
  {
    std::lock_guard lock(mu_);
    try {
      if (replicated) ensure_zookeeper_locked();
      // Files (spec, ports, configs) first: a crash from here on is repaired
      // by the same apply() repeated, which adopts what this one started.
      refused_rollouts_.erase(spec.name);
      prepare_locked(spec, answering, *target);
      request_start_locked(spec.name);
    } catch (const Error& e) {
      if (e.code() != "no_free_port") throw;
      spdlog::warn("local runtime: no free ports for {}: {}", spec.name, e.what());
      out_of_ports = true;
    }
  }
  if (out_of_ports) {
    stop_zookeeper_if_unused();  // if it was started for this service only
    return refused(spec.name, "unsupported_topology");
  }
  // A ZooKeeper that answers already gets the chroot now, so the replicas
  // start within this call; a starting one gets it from supervise().
  if (replicated) repair_chroots();
  advance_starts();
  ServiceStatus status = observe_service(spec.name);
  if (status.state != ServiceState::kReady) {
    spdlog::info("local runtime: {} applied; {} {}", spec.name, to_string(status.state), status.reason);
    std::lock_guard lock(mu_);
    if (auto it = services_.find(spec.name); it != services_.end() && !it->second.applied_at)
      it->second.applied_at = options_.clock->monotonic_time();
  }
  return status;
}

void LocalRuntime::remove(const std::string& service) {
  local::check_service_name(service);  // the name becomes a path we delete
  ServiceLayout l = layout(service);
  bool replicated = false;
  local::StopPlan stops;
  {
    std::lock_guard lock(mu_);
    auto spec = spec_locked(service);
    replicated = spec && local::needs_zookeeper(*spec);
    collect_service_locked(service, /*forget=*/true, stops);
  }
  local::stop_in_order(stops);
  if (replicated) drop_chroot(service);
  std::error_code ec;
  fs::remove_all(l.dir(), ec);
  if (ec) throw Error::Internal("cannot delete " + l.dir().string() + ": " + ec.message());
  spdlog::info("local runtime: removed {}", service);
  stop_zookeeper_if_unused();
}

std::vector<ServiceStatus> LocalRuntime::observe() {
  std::vector<ServiceStatus> out;
  for (const auto& name : services()) out.push_back(observe_service(name));
  return out;
}

std::vector<std::string> LocalRuntime::services() {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(options_.root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory()) continue;
    std::string name = it->path().filename().string();
    try {
      local::check_service_name(name);
      names.insert(name);
    } catch (const Error&) {
      // Not a service directory (_zookeeper, or nothing we created).
    }
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, service] : services_) names.insert(name);
  }
  return {names.begin(), names.end()};
}

void LocalRuntime::supervise() {
  {
    std::lock_guard lock(mu_);
    supervisor_.poll();
  }
  refresh_health(nullptr);
  repair_chroots();
  advance_starts();
  confirm_reloads();
  advance_rollouts();
  advance_scaling();
}

void LocalRuntime::stop_all() {
  local::StopPlan stops;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> names;
    for (const auto& name : services_on_disk_locked()) names.insert(name);
    for (const auto& [name, service] : services_) names.insert(name);
    for (const auto& name : names) collect_service_locked(name, /*forget=*/false, stops);
    collect_zookeeper_locked(stops);
  }
  local::stop_in_order(stops);
}

ServiceStatus LocalRuntime::refused(const std::string& name, const std::string& reason) {
  spdlog::warn("local runtime: not applying {}: {}", name, reason);
  ServiceStatus status;
  status.name = name;
  status.state = ServiceState::kFailed;
  status.reason = reason;
  return status;
}

std::optional<local::RunningVersion> LocalRuntime::resolve_version(const ServiceSpec& spec) const {
  const std::string name = spec.clickhouse_version.empty() ? kDefaultClickHouseVersion : spec.clickhouse_version;
  const ClickHouseVersion* version = options_.versions.find(name);
  // An image alone runs on Kubernetes, not here.
  if (!version || version->binary.empty()) return std::nullopt;
  return local::running_version(name, *version, spec.cpu_millis, spec.memory_mib);
}

std::optional<ServiceSpec> LocalRuntime::spec_locked(const std::string& name) const {
  if (auto it = services_.find(name); it != services_.end()) return it->second.spec;
  try {
    return local::load_spec(layout(name).spec_file());
  } catch (const Error& e) {
    spdlog::warn("local runtime: {}", e.what());
    return std::nullopt;
  }
}

std::vector<std::string> LocalRuntime::services_on_disk_locked() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(options_.root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    try {
      local::check_service_name(name);
    } catch (const Error&) {
      continue;
    }
    if (it->is_directory()) out.push_back(name);
  }
  return out;
}

bool LocalRuntime::topology_changes(const ServiceSpec& spec) {
  std::optional<ServiceSpec> current;
  {
    std::lock_guard lock(mu_);
    current = spec_locked(spec.name);
  }
  if (!current || (current->shards == spec.shards && local::needs_zookeeper(*current) == local::needs_zookeeper(spec)))
    return false;
  spdlog::warn("local runtime: {} runs {}x{}; changing it to {}x{} is not supported", spec.name,
               current->shards, current->replicas, spec.shards, spec.replicas);
  return true;
}

std::set<std::string> LocalRuntime::answering_replicas(const ServiceSpec& spec) {
  {
    std::lock_guard lock(mu_);
    if (services_.count(spec.name)) return {};
  }
  std::set<std::string> out;
  std::optional<local::ServicePorts> ports;
  try {
    ports = local::load_ports(layout(spec.name).ports_file());
  } catch (const Error&) {
    return out;
  }
  if (!ports) return out;
  for (const auto& r : local::replicas_of(spec)) {
    auto it = ports->replicas.find(r.name);
    if (it != ports->replicas.end() && local::clickhouse_answers(it->second.http)) out.insert(r.name);
  }
  return out;
}

std::set<int> LocalRuntime::ports_in_use_locked() const {
  std::set<int> taken;
  for (const auto& [name, service] : services_)
    for (int p : local::all_ports(service.wiring.ports)) taken.insert(p);
  std::error_code ec;
  for (fs::directory_iterator it(options_.root, ec), end; !ec && it != end; it.increment(ec)) {
    try {
      if (auto ports = local::load_ports(it->path() / "ports.json"))
        for (int p : local::all_ports(*ports)) taken.insert(p);
    } catch (const Error&) {
      // A malformed ports file belongs to a service apply() will repair.
    }
  }
  if (zookeeper_port_) taken.insert(*zookeeper_port_);
  return taken;
}

void LocalRuntime::rewrite_locked(const std::string& name, Service& service) {
  local::WriteResult written =
      local::write_service_files(layout(name), service.spec, service.wiring, writer_options());
  if (written.nginx_revision != service.nginx_revision) service.reload_wanted = true;
  service.nginx_revision = written.nginx_revision;
}

void LocalRuntime::set_support_gateway(const SupportGateway& gateway) {
  std::lock_guard lock(mu_);
  if (gateway == gateway_ && gateway_behind_.empty()) return;
  if (gateway != gateway_) {
    gateway_ = gateway;
    for (const auto& [name, service] : services_) gateway_behind_.insert(name);
  }
  for (auto it = gateway_behind_.begin(); it != gateway_behind_.end();) {
    auto service = services_.find(*it);
    if (service == services_.end()) {
      it = gateway_behind_.erase(it);
      continue;
    }
    try {
      wire_gateway_locked(*it, service->second);
      rewrite_locked(*it, service->second);  // the endpoint reloads once it confirms it runs
      it = gateway_behind_.erase(it);
    } catch (const Error& e) {
      // The old files keep serving until the next call retries (the agent's
      // check refuses everyone meanwhile if support was turned off).
      spdlog::error("local runtime: cannot update the support gateway of {}: {}", *it, e.what());
      ++it;
    }
  }
}

void LocalRuntime::wire_gateway_locked(const std::string& name, Service& service) {
  service.wiring.gateway = gateway_;
  service.wiring.support_password = gateway_.enabled ? local::ensure_support_password(layout(name)) : "";
}

void LocalRuntime::prepare_locked(const ServiceSpec& spec, const std::set<std::string>& answering,
                                  const local::RunningVersion& target) {
  ServiceLayout l = layout(spec.name);
  std::optional<ServiceSpec> previous = spec_locked(spec.name);
  std::set<int> taken = ports_in_use_locked();
  local::ServicePorts ports = local::ensure_ports(l, spec, taken);
  auto [it, created] = services_.try_emplace(spec.name);
  Service& service = it->second;
  service.spec = spec;
  plan_scaling_locked(spec.name, service, previous);
  load_versions_locked(spec.name, service, previous, target);
  forget_dropped_locked(spec.name, service);
  plan_rollout_locked(spec.name, service, target);
  if (created) {
    // A replica a step held out before a restart stays out until the step returns it.
    service.wiring.healthy = answering;
    for (const auto& r : service.drained) service.wiring.healthy.erase(r);
    for (const auto& r : service.joining) service.wiring.healthy.erase(r);
  }
  service.wiring.ports = ports;
  service.wiring.cluster_password = local::ensure_cluster_password(l);
  service.wiring.zookeeper_port = local::needs_zookeeper(spec) ? zookeeper_port_.value_or(0) : 0;
  wire_gateway_locked(spec.name, service);
  rewrite_locked(spec.name, service);
}

void LocalRuntime::request_start_locked(const std::string& name) { services_.at(name).start_wanted = true; }

void LocalRuntime::start_locked(const std::string& name) {
  const Service& service = services_.at(name);
  ServiceLayout l = layout(name);
  std::vector<local::ExpectedProcess> unsupervised;
  for (const auto& r : local::replicas_of(service.spec))
    if (!supervisor_.info(replica_key(name, r.name)))
      unsupervised.push_back({kClickHouseComm, clickhouse_marker(l, r.name), l.replica_pid_file(r.name)});
  if (!supervisor_.info(endpoint_key(name)))
    unsupervised.push_back({kNginxComm, nginx_marker(l), l.nginx_pid_file()});
  local::reconcile_pid_files(unsupervised);

  for (const auto& r : local::replicas_of(service.spec)) {
    // The replica of a step under way is the rollout's to stop and start.
    if (service.rollout && service.rollout->phase != local::StepPhase::kNone &&
        service.rollout->step_replica == r.name)
      continue;
    run_replica_locked(name, r.name);
  }
  if (supervisor_.info(endpoint_key(name)) ||
      local::Supervisor::find_running(l.nginx_pid_file(), nginx_marker(l)))
    start_endpoint_locked(name);
}

void LocalRuntime::run_replica_locked(const std::string& name, const std::string& replica) {
  const Service& service = services_.at(name);
  ServiceLayout l = layout(name);
  local::ProcessSpec p;
  p.argv = {service.versions.at(replica).binary, clickhouse_marker(l, replica)};
  p.cwd = l.replica_dir(replica);
  p.output = l.replica_output(replica);
  p.pid_file = l.replica_pid_file(replica);
  p.cmdline_marker = clickhouse_marker(l, replica);
  p.comm = kClickHouseComm;
  p.before_start = [this, name, replica] { before_replica_start(name, replica); };
  ensure_running(replica_key(name, replica), std::move(p));
}

void LocalRuntime::ensure_running(const std::string& key, local::ProcessSpec spec) {
  try {
    supervisor_.ensure_running(key, std::move(spec));
  } catch (const std::exception& e) {
    spdlog::warn("local runtime: {} not started yet: {}", key, e.what());
  }
}

void LocalRuntime::before_replica_start(const std::string& name, const std::string& replica) {
  auto it = services_.find(name);
  if (it == services_.end()) throw Error::Internal("service " + name + " is no longer known");
  Service& service = it->second;
  if (service.wiring.zookeeper_port > 0 && !service.chroot_ready)
    throw Error::Unavailable("the ZooKeeper chroot of " + name + " is not there yet");
  if (service.wiring.zookeeper_port > 0) clear_stale_activity_locked(name, replica);
  local::ReplicaPorts& ports = service.wiring.ports.replicas.at(replica);
  std::set<int> taken = ports_in_use_locked();
  bool moved = false;
  for (int* port : {&ports.http, &ports.tcp, &ports.interserver}) {
    if (local::port_bindable(*port)) continue;
    int old = *port;
    *port = local::pick_port(taken);
    moved = true;
    spdlog::warn("local runtime: port {} of {}/{} is taken; moving to {}", old, name, replica, *port);
  }
  if (!moved) return;
  local::save_ports(layout(name).ports_file(), service.wiring.ports);
  rewrite_locked(name, service);  // the endpoint reloads once it confirms it runs
}

void LocalRuntime::clear_stale_activity_locked(const std::string& name, const std::string& replica) {
  // A replica that never ran has no tables and left nothing.
  if (!fs::exists(layout(name).replica_data(replica) / "metadata")) return;
  if (!zookeeper_port_ || !local::zookeeper_answers(*zookeeper_port_)) return;
  const std::string chroot = local::zookeeper_chroot(name);
  try {
    auto zk = connect_zookeeper(*zookeeper_port_, kZooKeeperSessionTimeout, *options_.clock);
    int removed = local::remove_replica_active_marks(*zk, chroot, replica,
                                                     {chroot + "/clickhouse/" + name + "/task_queue"});
    if (removed > 0)
      spdlog::info("local runtime: cleared {} table(s) its last process left active for {}/{}", removed,
                   name, replica);
  } catch (const Error& e) {
    spdlog::warn("local runtime: cannot clear what {}/{} left in ZooKeeper: {}", name, replica, e.what());
  }
}

}  // namespace byoc::agent::local_impl

namespace byoc::agent {

std::unique_ptr<Runtime> make_local_runtime(const LocalRuntimeOptions& options) {
  if (options.root.empty() || !options.root.is_absolute())
    throw Error::Invalid("invalid_root", "the runtime root must be an absolute path", "root");
  if (!options.clock) throw Error::Invalid("invalid_clock", "a clock is required", "clock");
  // The root ends up in ClickHouse, nginx and ZooKeeper config files: no characters that need quoting.
  render::require_absolute_path(options.root.string(), "root");
  if (options.zookeeper.heap_mib < 16)
    throw Error::Invalid("invalid_heap", "the ZooKeeper heap must be at least 16 MiB", "zookeeper.heap_mib");
  files::ensure_dir(options.root, 0700);
  auto lock = proc::FileLock::try_acquire(options.root / ".lock");
  if (!lock) throw Error::Conflict("runtime_busy", "another runtime holds " + options.root.string(), "root");
  return std::make_unique<local_impl::LocalRuntime>(options, std::move(*lock));
}

}  // namespace byoc::agent
