// The local runtime: what observe() sees of a service's processes (its
// status is then derived by service_status.h), and collecting them to stop.
#include "agent/runtimes/local/local_runtime_impl.h"

namespace byoc::agent::local_impl {

local::ProcessView LocalRuntime::view_locked(const std::string& key, const fs::path& pid_file,
                                             const std::string& marker) {
  local::ProcessView view;
  view.supervised = supervisor_.info(key);
  if (!view.supervised)
    view.running_unsupervised = local::Supervisor::find_running(pid_file, marker).has_value();
  return view;
}

ServiceStatus LocalRuntime::observe_service(const std::string& name) {
  ServiceStatus status;
  status.name = name;
  ServiceLayout l = layout(name);
  std::optional<ServiceSpec> spec;
  std::optional<local::ServicePorts> ports;
  struct ReplicaView {
    local::ReplicaRef ref;
    local::ProcessView process;
    std::optional<bool> answers;  // known to the health table
  };
  std::vector<ReplicaView> replicas;
  local::ProcessView endpoint, zookeeper;
  int zookeeper_port = 0;
  // Of a service this runtime runs: the config nginx must serve (no reload
  // pending) before the service counts as READY.
  std::optional<std::string> revision;
  std::vector<pid_t> old_workers;
  bool start_pending = false;
  bool gateway_enabled = false;
  try {
    std::lock_guard lock(mu_);
    gateway_enabled = gateway_.enabled;
    auto it = services_.find(name);
    if (it != services_.end()) {
      spec = it->second.spec;
      ports = it->second.wiring.ports;
      revision = it->second.nginx_revision;
      old_workers = it->second.old_workers;
      start_pending = it->second.start_wanted || it->second.endpoint_start_by.has_value();
    } else {
      spec = local::load_spec(l.spec_file());
      ports = local::load_ports(l.ports_file());
    }
    if (spec) {
      for (const auto& r : local::replicas_of(*spec)) {
        ReplicaView v{r,
                      view_locked(replica_key(name, r.name), l.replica_pid_file(r.name),
                                  clickhouse_marker(l, r.name)),
                      std::nullopt};
        if (it != services_.end() && it->second.health.known(r.name))
          v.answers = it->second.health.answers(r.name);
        replicas.push_back(std::move(v));
      }
      if (local::needs_zookeeper(*spec)) {
        local::ZooKeeperLayout z = zookeeper_layout();
        zookeeper = view_locked(kZooKeeperKey, z.pid_file(), local::zookeeper_marker(z));
        zookeeper_port = zookeeper_port_ ? *zookeeper_port_ : local::load_zookeeper_port(z).value_or(0);
      }
    }
    endpoint = view_locked(endpoint_key(name), l.nginx_pid_file(), nginx_marker(l));
  } catch (const Error& e) {
    spdlog::warn("local runtime: cannot read the state of {}: {}", name, e.what());
  }
  if (!spec || !ports) {
    status.state = ServiceState::kFailed;  // a directory without its spec: only remove() fixes it
    status.reason = "incomplete";
    return status;
  }
  local::ServiceObservation seen;
  seen.name = name;
  seen.endpoint = "https://127.0.0.1:" + std::to_string(ports->https);
  if (!options_.nginx_stream_module.empty() && ports->native_tls > 0)
    seen.native_endpoint = "127.0.0.1:" + std::to_string(ports->native_tls);
  if (gateway_enabled && ports->support > 0)
    seen.support_gateway = "https://127.0.0.1:" + std::to_string(ports->support);
  for (const auto& v : replicas) {
    auto port_it = ports->replicas.find(v.ref.name);
    bool answers = v.process.running() && port_it != ports->replicas.end() &&
                   (v.answers ? *v.answers : local::clickhouse_answers(port_it->second.http));
    seen.replicas.push_back({v.ref.shard, v.ref.replica, v.process, answers});
  }
  seen.replicated = local::needs_zookeeper(*spec);
  seen.zookeeper = zookeeper;
  seen.zookeeper_answers = seen.replicated && zookeeper.running() && local::zookeeper_answers(zookeeper_port);
  seen.endpoint_process = endpoint;
  seen.start_pending = start_pending;
  if (endpoint.running()) {
    local::EndpointProbe probe = local::probe_endpoint(ports->https, options_.environment_ca.cert_pem);
    seen.endpoint_serves_current_config =
        probe.ping_ok && (!revision || (probe.revision == *revision && old_config_gone(old_workers)));
  }
  status = local::derive_status(seen);
  report_rollout(name, status);
  report_scaling(name, status);
  if (status.state == ServiceState::kReady && status.reason.empty()) log_ready(name);
  return status;
}

void LocalRuntime::log_ready(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end() || !it->second.applied_at) return;
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(options_.clock->monotonic_time() -
                                                                    *it->second.applied_at);
  it->second.applied_at.reset();
  // The time from apply() to the first observation of READY: as fine as the
  // agent observes a converging service (every supervision round).
  spdlog::info("local runtime: {} READY after {} ms", name, took.count());
}

void LocalRuntime::collect_service_locked(const std::string& name, bool forget, local::StopPlan& stops) {
  ServiceLayout l = layout(name);
  std::optional<pid_t> endpoint_pid = supervisor_.release(endpoint_key(name));
  if (!endpoint_pid) endpoint_pid = local::Supervisor::find_running(l.nginx_pid_file(), nginx_marker(l));
  if (endpoint_pid) stops.endpoints.emplace_back(*endpoint_pid, l.nginx_pid_file());
  std::set<std::string> replicas;
  const std::string prefix = name + "/";
  for (const auto& key : supervisor_.keys())
    if (key.rfind(prefix, 0) == 0 && key != endpoint_key(name)) replicas.insert(key.substr(prefix.size()));
  std::error_code ec;
  for (fs::directory_iterator it(l.dir(), ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory() && fs::exists(it->path() / "config.xml"))
      replicas.insert(it->path().filename().string());
  for (const auto& replica : replicas) {
    std::optional<pid_t> pid = supervisor_.release(replica_key(name, replica));
    if (!pid)
      pid = local::Supervisor::find_running(l.replica_pid_file(replica), clickhouse_marker(l, replica));
    if (pid) stops.replicas.emplace_back(*pid, l.replica_pid_file(replica));
  }
  if (forget) {
    services_.erase(name);
  } else if (auto it = services_.find(name); it != services_.end()) {
    it->second.health = local::ReplicaHealth();
    // Stopped means stopped: nothing apply() asked for starts later on its own.
    it->second.start_wanted = false;
    it->second.endpoint_start_by.reset();
    it->second.reload_sent.reset();
    it->second.reload_wanted = false;
    it->second.old_workers.clear();
  }
}

}  // namespace byoc::agent::local_impl
