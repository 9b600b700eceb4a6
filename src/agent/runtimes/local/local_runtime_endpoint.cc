// The local runtime: starting what apply() asked for once it can start (the
// replicas after their chroot, the endpoint after its replicas), the
// replicas' health, and confirming that a reload took (the endpoint serves
// the config on disk and no worker of the old one still accepts connections).
#include "agent/runtimes/local/local_runtime_impl.h"

namespace byoc::agent::local_impl {

void LocalRuntime::start_endpoint_locked(const std::string& name) {
  ServiceLayout l = layout(name);
  local::ProcessSpec p;
  p.argv = {options_.nginx_binary.string(),
            "-p",
            l.endpoint_dir().string() + "/",
            "-c",
            nginx_marker(l),
            "-e",
            (l.endpoint_logs() / "error.log").string()};
  p.cwd = l.endpoint_dir();
  p.output = l.nginx_output();
  p.pid_file = l.nginx_pid_file();
  p.cmdline_marker = nginx_marker(l);
  p.comm = kNginxComm;
  p.before_start = [this, name] { before_endpoint_start(name); };
  ensure_running(endpoint_key(name), std::move(p));
}

void LocalRuntime::before_endpoint_start(const std::string& name) {
  auto it = services_.find(name);
  if (it == services_.end()) throw Error::Internal("service " + name + " is no longer known");
  Service& service = it->second;
  ServiceLayout l = layout(name);
  // Workers of a master that died while no runtime watched still hold the
  // ports. A live leader with that pid is a stranger (the pid was recycled).
  if (auto old = proc::read_pid_file(l.nginx_pid_file()); old && !proc::is_alive(*old)) {
    if (local::kill_group_members(*old, kNginxComm) > 0) {
      auto deadline = options_.clock->monotonic_time() + std::chrono::seconds(2);
      Backoff backoff;
      while (!local::port_bindable(service.wiring.ports.https) && options_.clock->monotonic_time() < deadline)
        backoff.wait();
    }
  }
  std::set<int> taken = ports_in_use_locked();
  bool moved = false;
  for (int* port : {&service.wiring.ports.https, &service.wiring.ports.native_tls, &service.wiring.ports.support}) {
    if (local::port_bindable(*port)) continue;
    int old = *port;
    *port = local::pick_port(taken);
    moved = true;
    spdlog::warn("local runtime: endpoint port {} of {} is taken; moving to {}", old, name, *port);
  }
  if (moved) local::save_ports(l.ports_file(), service.wiring.ports);
  // A fresh master runs what is on disk: nothing to reload.
  rewrite_locked(name, service);
  service.reload_wanted = false;
  service.reload_sent.reset();
  service.old_workers.clear();
}

void LocalRuntime::refresh_health(const std::string* only) {
  struct Probe {
    std::string service;
    std::string replica;
    pid_t pid;
    int port;
    bool answered = false;
  };
  std::vector<Probe> probes;
  {
    std::lock_guard lock(mu_);
    MonotonicTime now = options_.clock->monotonic_time();
    for (auto& [name, service] : services_) {
      if (only && name != *only) continue;
      std::map<std::string, pid_t> running;
      for (const auto& r : local::replicas_of(service.spec)) {
        auto info = supervisor_.info(replica_key(name, r.name));
        running[r.name] = info && info->state == ProcessState::kRunning ? info->pid : 0;
      }
      for (const auto& replica : service.health.due(running, now))
        probes.push_back({name, replica, running[replica], service.wiring.ports.replicas.at(replica).http});
    }
  }
  for (auto& p : probes) p.answered = local::clickhouse_answers(p.port);
  std::lock_guard lock(mu_);
  MonotonicTime now = options_.clock->monotonic_time();
  for (const auto& p : probes)
    if (auto it = services_.find(p.service); it != services_.end())
      it->second.health.record(p.replica, p.pid, p.answered, now);
  for (auto& [name, service] : services_)
    if (!only || name == *only) sync_endpoint_locked(name, service);
}

void LocalRuntime::sync_endpoint_locked(const std::string& name, Service& service) {
  std::set<std::string> healthy;
  for (const auto& r : local::replicas_of(service.spec)) {
    auto info = supervisor_.info(replica_key(name, r.name));
    if (!info || info->state != ProcessState::kRunning || service.drained.count(r.name) ||
        service.joining.count(r.name))
      continue;
    bool answers = service.health.known(r.name)
                       ? service.health.answers(r.name)
                       // Adopted and not probed yet: as before the restart.
                       : service.health.first_process(r.name) && service.wiring.healthy.count(r.name) > 0;
    if (answers) healthy.insert(r.name);
  }
  if (healthy == service.wiring.healthy) return;
  spdlog::info("local runtime: the endpoint of {} now sends to {} of {} replica(s)", name, healthy.size(),
               service.wiring.ports.replicas.size());
  service.wiring.healthy = healthy;
  try {
    local::WriteResult w =
        local::write_endpoint_files(layout(name), service.spec, service.wiring, writer_options());
    if (w.nginx_revision != service.nginx_revision) service.reload_wanted = true;
    service.nginx_revision = w.nginx_revision;
  } catch (const Error& e) {
    spdlog::error("local runtime: cannot rewrite the endpoint of {}: {}", name, e.what());
  }
}

void LocalRuntime::reload_locked(const std::string& name, Service& service) {
  auto info = supervisor_.info(endpoint_key(name));
  if (!info || info->state != ProcessState::kRunning) return;
  std::vector<pid_t> workers = local::child_processes(info->pid);
  if (!supervisor_.signal(endpoint_key(name), SIGHUP)) return;
  spdlog::info("local runtime: reloading the endpoint of {}", name);
  service.old_workers = std::move(workers);
  service.reload_sent = options_.clock->monotonic_time();
  service.reload_sent_for = service.nginx_revision;
}

void LocalRuntime::converge_endpoint(const std::string& name, const local::EndpointProbe& probe) {
  std::lock_guard lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end() || probe.revision.empty()) return;
  Service& service = it->second;
  if (probe.revision == service.nginx_revision) {
    service.reload_wanted = false;
    service.reload_sent.reset();
    return;
  }
  service.reload_wanted = true;
  if (!service.reload_sent || service.reload_sent_for != service.nginx_revision ||
      options_.clock->monotonic_time() - *service.reload_sent >= kReloadRetry)
    reload_locked(name, service);
}

void LocalRuntime::confirm_reloads() {
  std::vector<std::pair<std::string, int>> pending;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, service] : services_)
      if (service.reload_wanted) pending.emplace_back(name, service.wiring.ports.https);
  }
  for (const auto& [name, port] : pending)
    converge_endpoint(name, local::probe_endpoint(port, options_.environment_ca.cert_pem));
}

bool LocalRuntime::replicas_answer_locked(const std::string& name, const Service& service) const {
  for (const auto& r : local::replicas_of(service.spec)) {
    auto info = supervisor_.info(replica_key(name, r.name));
    if (!info || info->state != ProcessState::kRunning || !service.health.answers(r.name)) return false;
  }
  return true;
}

void LocalRuntime::advance_starts() {
  std::lock_guard lock(mu_);
  const MonotonicTime now = options_.clock->monotonic_time();
  for (auto& [name, service] : services_) {
    if (service.start_wanted && (service.wiring.zookeeper_port == 0 || service.chroot_ready)) {
      service.start_wanted = false;
      start_locked(name);  // adopts a running endpoint
      if (!supervisor_.info(endpoint_key(name))) service.endpoint_start_by = now + kEndpointStartWait;
    }
    if (!service.endpoint_start_by) continue;
    if (!supervisor_.info(endpoint_key(name)) &&
        (replicas_answer_locked(name, service) || now >= *service.endpoint_start_by))
      start_endpoint_locked(name);
    if (supervisor_.info(endpoint_key(name))) service.endpoint_start_by.reset();
  }
}

}  // namespace byoc::agent::local_impl
