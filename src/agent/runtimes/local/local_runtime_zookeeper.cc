// The local runtime: the environment's ZooKeeper (one, shared by its
// replicated services, started before their replicas and stopped after the
// last) and each service's chroot in it.
#include "agent/runtimes/local/local_runtime_impl.h"

namespace byoc::agent::local_impl {

void LocalRuntime::ensure_zookeeper_locked() {
  local::ZooKeeperLayout z = zookeeper_layout();
  if (!zookeeper_port_) zookeeper_port_ = local::load_zookeeper_port(z);
  if (!zookeeper_port_) {
    std::set<int> taken = ports_in_use_locked();
    zookeeper_port_ = local::pick_port(taken);
    local::save_zookeeper_port(z, *zookeeper_port_);
  }
  local::write_zookeeper_files(z, *zookeeper_port_);
  if (!supervisor_.info(kZooKeeperKey))
    local::reconcile_pid_files({{local::kJavaComm, local::zookeeper_marker(z), z.pid_file()}});
  local::ProcessSpec p = local::zookeeper_process(z, options_.zookeeper);
  p.before_start = [this] { before_zookeeper_start(); };
  try {
    supervisor_.ensure_running(kZooKeeperKey, std::move(p));
  } catch (const std::exception& e) {
    // Scheduled for a restart: supervise() brings it up, and the replicas after it.
    spdlog::error("local runtime: cannot start ZooKeeper: {}", e.what());
  }
}

void LocalRuntime::before_zookeeper_start() {
  // Chroots are checked again once it answers (create_path is idempotent):
  // a data directory lost with the process must not leave replicas without
  // their root, and replicas that die meanwhile wait for it.
  for (auto& [name, service] : services_) service.chroot_ready = false;
  if (!zookeeper_port_ || local::port_bindable(*zookeeper_port_)) return;
  int old = *zookeeper_port_;
  std::set<int> taken = ports_in_use_locked();
  zookeeper_port_ = local::pick_port(taken);
  local::ZooKeeperLayout z = zookeeper_layout();
  local::save_zookeeper_port(z, *zookeeper_port_);
  local::write_zookeeper_files(z, *zookeeper_port_);
  spdlog::warn("local runtime: ZooKeeper port {} is taken; moving to {}", old, *zookeeper_port_);
  for (auto& [name, service] : services_) {
    if (service.wiring.zookeeper_port == 0) continue;
    service.wiring.zookeeper_port = *zookeeper_port_;
    local::write_replica_files(layout(name), service.spec, service.wiring);
    for (const auto& r : local::replicas_of(service.spec))
      supervisor_.signal(replica_key(name, r.name), SIGTERM);
  }
}

bool LocalRuntime::ensure_chroot(const std::string& name) {
  // apply() and supervise() may both get here; one makes it, the other sees it made.
  std::lock_guard chroot_lock(chroot_mu_);
  int port = 0;
  {
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it != services_.end() && it->second.chroot_ready) return true;
    port = zookeeper_port_.value_or(0);
  }
  ServiceLayout l = layout(name);
  const std::string chroot = local::zookeeper_chroot(name);
  try {
    auto zk = connect_zookeeper(port, kZooKeeperSessionTimeout, *options_.clock);
    if (!fs::exists(l.chroot_marker())) zk->remove_recursive(chroot);
    zk->create_path(chroot);
    files::write_atomic(l.chroot_marker(), chroot + "\n", 0600);
  } catch (const Error& e) {
    spdlog::warn("local runtime: cannot make the ZooKeeper chroot of {}: {}", name, e.what());
    return false;
  }
  std::lock_guard lock(mu_);
  if (auto it = services_.find(name); it != services_.end()) it->second.chroot_ready = true;
  return true;
}

void LocalRuntime::drop_chroot(const std::string& name) {
  int port = 0;
  {
    std::lock_guard lock(mu_);
    port = zookeeper_port_.value_or(0);
    if (!port) port = local::load_zookeeper_port(zookeeper_layout()).value_or(0);
  }
  if (!local::zookeeper_answers(port)) return;
  try {
    connect_zookeeper(port, kZooKeeperSessionTimeout, *options_.clock)->remove_recursive(local::zookeeper_chroot(name));
  } catch (const Error& e) {
    spdlog::warn("local runtime: cannot delete the ZooKeeper chroot of {}: {}", name, e.what());
  }
}

void LocalRuntime::repair_chroots() {
  std::vector<std::string> pending;
  int port = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, service] : services_)
      if (service.wiring.zookeeper_port > 0 && !service.chroot_ready) pending.push_back(name);
    port = zookeeper_port_.value_or(0);
  }
  if (pending.empty() || !local::zookeeper_answers(port)) return;
  for (const auto& name : pending) ensure_chroot(name);
}

void LocalRuntime::collect_zookeeper_locked(local::StopPlan& stops) {
  local::ZooKeeperLayout z = zookeeper_layout();
  std::optional<pid_t> pid = supervisor_.release(kZooKeeperKey);
  if (!pid) pid = local::Supervisor::find_running(z.pid_file(), local::zookeeper_marker(z));
  if (pid) stops.zookeeper = {*pid, z.pid_file()};
}

void LocalRuntime::stop_zookeeper_if_unused() {
  local::StopPlan stops;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> names;
    for (const auto& name : services_on_disk_locked()) names.insert(name);
    for (const auto& [name, service] : services_) names.insert(name);
    for (const auto& name : names) {
      auto spec = spec_locked(name);
      if (spec && local::needs_zookeeper(*spec)) return;
    }
    if (!fs::exists(zookeeper_layout().dir())) return;
    collect_zookeeper_locked(stops);
    zookeeper_port_.reset();
  }
  local::stop_in_order(stops);
  std::error_code ec;
  fs::remove_all(zookeeper_layout().dir(), ec);
  if (ec)
    spdlog::warn("local runtime: cannot delete {}: {}", zookeeper_layout().dir().string(), ec.message());
  else
    spdlog::info("local runtime: no replicated service left; ZooKeeper stopped");
}

}  // namespace byoc::agent::local_impl
