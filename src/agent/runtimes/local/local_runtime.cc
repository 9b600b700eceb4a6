#include "agent/runtimes/local/local_runtime.h"

#include <signal.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/orphans.h"
#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/probes.h"
#include "agent/runtimes/local/proc_table.h"
#include "agent/runtimes/local/replica_health.h"
#include "agent/runtimes/local/service_status.h"
#include "agent/runtimes/local/stop_plan.h"
#include "agent/runtimes/local/service_files.h"
#include "agent/runtimes/local/zk_client.h"
#include "agent/runtimes/local/zookeeper.h"
#include "base/error.h"
#include "base/files.h"
#include "base/log.h"
#include "base/process.h"
#include "render/validate.h"

namespace byoc::agent {
namespace {

namespace fs = std::filesystem;
using local::ProcessInfo;
using local::ProcessState;
using local::ServiceLayout;

// The only ClickHouse this machine has (Debian 12's package).
constexpr const char* kLocalClickHouseVersion = "18.16.1";
// A SIGHUP whose config has not shown up after this long is sent again.
constexpr std::chrono::seconds kReloadRetry{3};
// Creating or deleting a chroot: a session must be up within this long. A
// ZooKeeper that has just started answers `ruok` a moment before it takes
// sessions, and the C client then waits seconds before its next try: each
// attempt gets a short timeout and a fresh client instead.
constexpr std::chrono::seconds kZooKeeperSessionTimeout{5};
constexpr std::chrono::milliseconds kZooKeeperSessionAttempt{400};
// A stopped endpoint starts once every replica answers (its first config
// then sends to all of them: no reload on the way to READY), or after this
// long with whatever answers by then.
constexpr std::chrono::seconds kEndpointStartWait{5};
constexpr const char* kNginxComm = "nginx";
constexpr const char* kClickHouseComm = "clickhouse-serv";  // the kernel keeps 15 characters
// Supervisor key of the environment's ZooKeeper (no service name starts with '_').
constexpr const char* kZooKeeperKey = "_zookeeper";

std::string replica_key(const std::string& service, const std::string& replica) {
  return service + "/" + replica;
}
std::string endpoint_key(const std::string& service) { return service + "/endpoint"; }

std::string clickhouse_marker(const ServiceLayout& layout, const std::string& replica) {
  return "--config-file=" + layout.replica_config(replica).string();
}
std::string nginx_marker(const ServiceLayout& layout) { return layout.nginx_conf().string(); }

// Pauses between probes: 2 ms doubling to 20 ms, so a wait ends within 20 ms
// of the condition holding (no fixed polling delay on the start path). Each
// probe is a loopback connection: a refused one costs microseconds.
class Backoff {
 public:
  void wait() {
    std::this_thread::sleep_for(pause_);
    pause_ = std::min(pause_ * 2, std::chrono::milliseconds(20));
  }

 private:
  std::chrono::milliseconds pause_{2};
};

// After a reload, new connections reach only the new config's workers once
// every worker of the old one has closed its listeners (it then says so in
// its title).
bool old_config_gone(const std::vector<pid_t>& old_workers) {
  return std::all_of(old_workers.begin(), old_workers.end(), [](pid_t worker) {
    std::string title = local::process_cmdline(worker);
    return title.empty() || title.find("shutting down") != std::string::npos;
  });
}

// A session with the local ZooKeeper on `port`, tried until `timeout`
// passes. Throws byoc::Error kUnavailable if none could be had.
std::unique_ptr<local::ZooKeeperClient> connect_zookeeper(int port, std::chrono::milliseconds timeout,
                                                          const Clock& clock) {
  const auto deadline = clock.monotonic_time() + timeout;
  while (true) {
    try {
      return std::make_unique<local::ZooKeeperClient>("127.0.0.1", port, kZooKeeperSessionAttempt);
    } catch (const Error&) {
      if (clock.monotonic_time() + kZooKeeperSessionAttempt > deadline) throw;
    }
  }
}

class LocalRuntime final : public Runtime {
 public:
  LocalRuntime(const LocalRuntimeOptions& options, proc::FileLock lock)
      : options_(options), lock_(std::move(lock)), supervisor_(*options.clock, options.restart_backoff) {
    std::error_code ec;
    if (!options_.nginx_stream_module.empty() && !fs::exists(options_.nginx_stream_module, ec)) {
      spdlog::warn("local runtime: {} not found; endpoints serve HTTPS only",
                   options_.nginx_stream_module.string());
      options_.nginx_stream_module.clear();
    }
  }

  // Processes keep running: the next runtime on this root adopts them.
  ~LocalRuntime() override = default;

  ServiceStatus apply(const ServiceSpec& spec) override {
    local::check_service_spec(spec);
    if (!spec.clickhouse_version.empty() && spec.clickhouse_version != kLocalClickHouseVersion)
      return refused(spec.name, "unsupported_version");
    if (topology_changes(spec)) return refused(spec.name, "unsupported_topology");
    const bool replicated = local::needs_zookeeper(spec);
    const auto started = options_.clock->monotonic_time();
    const auto deadline = started + options_.ready_timeout;
    // Replicas adopted from an earlier runtime that answer now keep receiving
    // traffic while this runtime learns about them.
    std::set<std::string> answering = answering_replicas(spec);
    bool out_of_ports = false;
    {
      std::lock_guard lock(mu_);
      try {
        if (replicated) ensure_zookeeper_locked();
        prepare_locked(spec, answering);
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
    // ZooKeeper and the chroot come before the replicas: ClickHouse 18.16
    // doesn't create its root node, and a replica whose first ZooKeeper
    // session finds none gives up its DDL queue (ON CLUSTER) until restarted.
    if (replicated && wait_zookeeper(deadline)) ensure_chroot(spec.name);
    {
      std::lock_guard lock(mu_);
      start_locked(spec.name);
    }
    wait_ready(spec.name, deadline);
    // A reload started on the way (a replica joining the upstream) may still
    // be settling: give it until the deadline rather than report PROVISIONING.
    ServiceStatus status = observe_service(spec.name);
    Backoff pause;
    while (status.state == ServiceState::kProvisioning && options_.clock->monotonic_time() < deadline) {
      pause.wait();
      status = observe_service(spec.name);
    }
    spdlog::info("local runtime: {} {}{}{} after {} ms", spec.name, to_string(status.state),
                 status.reason.empty() ? "" : " ", status.reason,
                 std::chrono::duration_cast<std::chrono::milliseconds>(options_.clock->monotonic_time() - started).count());
    return status;
  }

  void remove(const std::string& service) override {
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

  std::vector<ServiceStatus> observe() override {
    std::vector<ServiceStatus> out;
    for (const auto& name : services()) out.push_back(observe_service(name));
    return out;
  }

  std::vector<std::string> services() override {
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

  void supervise() override {
    {
      std::lock_guard lock(mu_);
      supervisor_.poll();
    }
    refresh_health(nullptr);
    repair_chroots();
    confirm_reloads();
  }

  void stop_all() override {
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

 private:
  struct Service {
    ServiceSpec spec;
    local::ServiceWiring wiring;
    std::string nginx_revision;  // of the nginx.conf on disk
    local::ReplicaHealth health;
    bool chroot_ready = false;  // the ZooKeeper chroot exists (replicated services)
    // A SIGHUP sent (and the workers of the config it replaces), not yet
    // confirmed by the endpoint serving nginx_revision.
    std::optional<MonotonicTime> reload_sent;
    std::string reload_sent_for;  // the revision that HUP was for
    std::vector<pid_t> old_workers;
    bool reload_wanted = false;  // nginx.conf changed since the endpoint last confirmed it
  };

  ServiceLayout layout(const std::string& service) const { return ServiceLayout(options_.root, service); }
  local::ZooKeeperLayout zookeeper_layout() const { return local::ZooKeeperLayout(options_.root); }

  local::FileWriterOptions writer_options() const {
    return local::FileWriterOptions{options_.environment_ca, options_.clock, options_.nginx_binary,
                                    options_.nginx_stream_module.string()};
  }

  ServiceStatus refused(const std::string& name, const std::string& reason) {
    spdlog::warn("local runtime: not applying {}: {}", name, reason);
    ServiceStatus status;
    status.name = name;
    status.state = ServiceState::kFailed;
    status.reason = reason;
    return status;
  }

  // The spec the runtime runs for `name`: in memory, else from disk.
  std::optional<ServiceSpec> spec_locked(const std::string& name) const {
    if (auto it = services_.find(name); it != services_.end()) return it->second.spec;
    try {
      return local::load_spec(layout(name).spec_file());
    } catch (const Error& e) {
      spdlog::warn("local runtime: {}", e.what());
      return std::nullopt;
    }
  }

  std::vector<std::string> services_on_disk_locked() const {
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

  // Replicas and shards are fixed at creation: growing would need the
  // tables created on the new replicas, shrinking would leave their
  // replication queues behind in ZooKeeper.
  bool topology_changes(const ServiceSpec& spec) {
    std::optional<ServiceSpec> current;
    {
      std::lock_guard lock(mu_);
      current = spec_locked(spec.name);
    }
    if (!current || (current->shards == spec.shards && current->replicas == spec.replicas)) return false;
    spdlog::warn("local runtime: {} runs {}x{}; changing it to {}x{} is not supported", spec.name,
                 current->shards, current->replicas, spec.shards, spec.replicas);
    return true;
  }

  // For a service this runtime doesn't know yet (after a restart): the
  // replicas whose persisted port answers /ping.
  std::set<std::string> answering_replicas(const ServiceSpec& spec) {
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

  // Ports of every service of this root and of its ZooKeeper, so a new one
  // never reuses them.
  std::set<int> ports_in_use_locked() const {
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

  // ---- ZooKeeper ----

  void ensure_zookeeper_locked() {
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

  // Runs under mu_ right before ZooKeeper starts. A stranger on its port
  // moves it; replicas read the ZooKeeper address only when they start, so
  // running ones are restarted (gracefully) onto the new port.
  void before_zookeeper_start() {
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

  // Polls `ruok` (supervising meanwhile) until ZooKeeper answers or `deadline`.
  bool wait_zookeeper(MonotonicTime deadline) {
    Backoff backoff;
    while (true) {
      int port = 0;
      {
        std::lock_guard lock(mu_);
        supervisor_.poll();
        port = zookeeper_port_.value_or(0);
      }
      if (local::zookeeper_answers(port)) return true;
      if (options_.clock->monotonic_time() >= deadline) {
        spdlog::warn("local runtime: ZooKeeper not answering on port {} yet", port);
        return false;
      }
      backoff.wait();
    }
  }

  // Makes the service's chroot (deleting what an earlier service of the same
  // name left there first); true once it exists. Outside mu_.
  bool ensure_chroot(const std::string& name) {
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

  // Deletes a removed service's chroot if ZooKeeper answers. If it doesn't,
  // the next service of that name deletes it (its chroot marker is gone).
  void drop_chroot(const std::string& name) {
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

  // Chroots apply() could not make (ZooKeeper was late): made once it answers.
  void repair_chroots() {
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

  void collect_zookeeper_locked(local::StopPlan& stops) {
    local::ZooKeeperLayout z = zookeeper_layout();
    std::optional<pid_t> pid = supervisor_.release(kZooKeeperKey);
    if (!pid) pid = local::Supervisor::find_running(z.pid_file(), local::zookeeper_marker(z));
    if (pid) stops.zookeeper = {*pid, z.pid_file()};
  }

  // Stops ZooKeeper and deletes its data once no service needs it.
  void stop_zookeeper_if_unused() {
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

  // ---- services ----

  void rewrite_locked(const std::string& name, Service& service) {
    local::WriteResult written =
        local::write_service_files(layout(name), service.spec, service.wiring, writer_options());
    if (written.nginx_revision != service.nginx_revision) service.reload_wanted = true;
    service.nginx_revision = written.nginx_revision;
  }

  void prepare_locked(const ServiceSpec& spec, const std::set<std::string>& answering) {
    ServiceLayout l = layout(spec.name);
    std::set<int> taken = ports_in_use_locked();
    local::ServicePorts ports = local::ensure_ports(l, spec, taken);
    auto [it, created] = services_.try_emplace(spec.name);
    Service& service = it->second;
    if (created) service.wiring.healthy = answering;
    service.spec = spec;
    service.wiring.ports = ports;
    service.wiring.cluster_password = local::ensure_cluster_password(l);
    service.wiring.zookeeper_port = local::needs_zookeeper(spec) ? zookeeper_port_.value_or(0) : 0;
    rewrite_locked(spec.name, service);
  }

  // Starts (or adopts) the replicas, and adopts a running endpoint; a
  // stopped endpoint is started by wait_ready() once the replicas answer.
  void start_locked(const std::string& name) {
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
      local::ProcessSpec p;
      p.argv = {options_.clickhouse_binary.string(), clickhouse_marker(l, r.name)};
      p.cwd = l.replica_dir(r.name);
      p.output = l.replica_output(r.name);
      p.pid_file = l.replica_pid_file(r.name);
      p.cmdline_marker = clickhouse_marker(l, r.name);
      p.comm = kClickHouseComm;
      p.before_start = [this, name, replica = r.name] { before_replica_start(name, replica); };
      ensure_running(replica_key(name, r.name), std::move(p));
    }
    if (supervisor_.info(endpoint_key(name)) ||
        local::Supervisor::find_running(l.nginx_pid_file(), nginx_marker(l)))
      start_endpoint_locked(name);
  }

  void start_endpoint_locked(const std::string& name) {
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

  // A process that can't start now stays scheduled: supervise() retries it.
  void ensure_running(const std::string& key, local::ProcessSpec spec) {
    try {
      supervisor_.ensure_running(key, std::move(spec));
    } catch (const std::exception& e) {
      spdlog::warn("local runtime: {} not started yet: {}", key, e.what());
    }
  }

  // Runs under mu_ (from the supervisor) right before a replica starts: a
  // replicated service's chroot must exist; a port someone else took since
  // we picked it is re-picked, and every file naming it (all replicas'
  // clusters, the endpoint's upstream) rewritten.
  void before_replica_start(const std::string& name, const std::string& replica) {
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

  // The replica is dead and about to start: what its last process left
  // active in ZooKeeper (after a kill -9) would hold its tables back for a
  // whole session timeout. Best effort: without ZooKeeper, ClickHouse waits.
  void clear_stale_activity_locked(const std::string& name, const std::string& replica) {
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

  void before_endpoint_start(const std::string& name) {
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
    for (int* port : {&service.wiring.ports.https, &service.wiring.ports.native_tls}) {
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

  // ---- health and endpoint reloads ----

  // Probes the replicas that are due (outside the lock), then points each
  // endpoint at the replicas that answer. `only`: one service, else all.
  void refresh_health(const std::string* only) {
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

  // Rewrites the endpoint's upstreams when the set of answering replicas
  // changed; the reload follows once the endpoint is seen serving.
  void sync_endpoint_locked(const std::string& name, Service& service) {
    std::set<std::string> healthy;
    for (const auto& r : local::replicas_of(service.spec)) {
      auto info = supervisor_.info(replica_key(name, r.name));
      if (!info || info->state != ProcessState::kRunning) continue;
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

  // SIGHUP to the endpoint's master, remembering the workers of the config it
  // replaces. Only sent to a master seen serving (its signal handlers are set:
  // a HUP before that would end it).
  void reload_locked(const std::string& name, Service& service) {
    auto info = supervisor_.info(endpoint_key(name));
    if (!info || info->state != ProcessState::kRunning) return;
    std::vector<pid_t> workers = local::child_processes(info->pid);
    if (!supervisor_.signal(endpoint_key(name), SIGHUP)) return;
    spdlog::info("local runtime: reloading the endpoint of {}", name);
    service.old_workers = std::move(workers);
    service.reload_sent = options_.clock->monotonic_time();
    service.reload_sent_for = service.nginx_revision;
  }

  // Level-triggered: an endpoint serving another revision than the one on
  // disk (a new config, a lost HUP, a crash between write and signal) is
  // reloaded; the same HUP is sent again if it has not shown up after
  // kReloadRetry.
  void converge_endpoint(const std::string& name, const local::EndpointProbe& probe) {
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

  void confirm_reloads() {
    std::vector<std::pair<std::string, int>> pending;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, service] : services_)
        if (service.reload_wanted) pending.emplace_back(name, service.wiring.ports.https);
    }
    for (const auto& [name, port] : pending)
      converge_endpoint(name, local::probe_endpoint(port, options_.environment_ca.cert_pem));
  }

  struct Snapshot {
    bool known = false;
    bool replicas_answer = true;
    int https_port = 0;
    int zookeeper_port = 0;
    std::string revision;
    bool endpoint_running = false;
    bool endpoint_supervised = false;
    std::vector<pid_t> old_workers;
  };

  Snapshot snapshot_locked(const std::string& name) {
    Snapshot s;
    auto it = services_.find(name);
    if (it == services_.end()) return s;
    const Service& service = it->second;
    s.known = true;
    for (const auto& r : local::replicas_of(service.spec)) {
      auto info = supervisor_.info(replica_key(name, r.name));
      s.replicas_answer &= info && info->state == ProcessState::kRunning && service.health.answers(r.name);
    }
    s.https_port = service.wiring.ports.https;
    s.zookeeper_port = service.wiring.zookeeper_port;
    s.revision = service.nginx_revision;
    auto info = supervisor_.info(endpoint_key(name));
    s.endpoint_running = info && info->state == ProcessState::kRunning;
    s.endpoint_supervised = info.has_value();
    s.old_workers = service.old_workers;
    return s;
  }

  // Polls (supervising meanwhile, so a crash while starting is restarted)
  // until every replica answers, the endpoint serves the config on disk with
  // no worker of an older config still accepting connections, and ZooKeeper
  // answers (replicated services); or until `deadline`.
  bool wait_ready(const std::string& name, MonotonicTime deadline) {
    Backoff backoff;
    const auto endpoint_start_by = std::min(deadline, options_.clock->monotonic_time() + kEndpointStartWait);
    while (true) {
      {
        std::lock_guard lock(mu_);
        supervisor_.poll();
      }
      refresh_health(&name);
      if (snapshot_zookeeper_pending(name)) repair_chroots();
      Snapshot s;
      {
        std::lock_guard lock(mu_);
        s = snapshot_locked(name);
        if (s.known && !s.endpoint_supervised &&
            (s.replicas_answer || options_.clock->monotonic_time() >= endpoint_start_by)) {
          start_endpoint_locked(name);
          s = snapshot_locked(name);
        }
      }
      if (!s.known) return false;
      local::EndpointProbe endpoint;
      if (s.endpoint_running) {
        endpoint = local::probe_endpoint(s.https_port, options_.environment_ca.cert_pem);
        converge_endpoint(name, endpoint);
      }
      bool zookeeper_ok = s.zookeeper_port == 0 || local::zookeeper_answers(s.zookeeper_port);
      if (s.replicas_answer && zookeeper_ok && endpoint.ping_ok && endpoint.revision == s.revision &&
          old_config_gone(s.old_workers))
        return true;
      if (options_.clock->monotonic_time() >= deadline) {
        spdlog::warn("local runtime: {} not ready after {} ms", name, options_.ready_timeout.count());
        return false;
      }
      backoff.wait();
    }
  }

  bool snapshot_zookeeper_pending(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    return it != services_.end() && it->second.wiring.zookeeper_port > 0 && !it->second.chroot_ready;
  }

  // ---- observation ----

  local::ProcessView view_locked(const std::string& key, const fs::path& pid_file, const std::string& marker) {
    local::ProcessView view;
    view.supervised = supervisor_.info(key);
    if (!view.supervised)
      view.running_unsupervised = local::Supervisor::find_running(pid_file, marker).has_value();
    return view;
  }

  ServiceStatus observe_service(const std::string& name) {
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
    try {
      std::lock_guard lock(mu_);
      auto it = services_.find(name);
      if (it != services_.end()) {
        spec = it->second.spec;
        ports = it->second.wiring.ports;
        revision = it->second.nginx_revision;
        old_workers = it->second.old_workers;
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
    if (endpoint.running()) {
      local::EndpointProbe probe = local::probe_endpoint(ports->https, options_.environment_ca.cert_pem);
      seen.endpoint_serves_current_config =
          probe.ping_ok && (!revision || (probe.revision == *revision && old_config_gone(old_workers)));
    }
    return local::derive_status(seen);
  }

  // ---- stopping ----

  // Takes the service's processes out of supervision (supervised, or found
  // through pid files) into `stops`.
  void collect_service_locked(const std::string& name, bool forget, local::StopPlan& stops) {
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
      it->second.reload_sent.reset();
      it->second.reload_wanted = false;
      it->second.old_workers.clear();
    }
  }

  LocalRuntimeOptions options_;
  proc::FileLock lock_;
  std::mutex mu_;
  std::mutex chroot_mu_;                     // serialises ensure_chroot(); taken before mu_
  local::Supervisor supervisor_;             // guarded by mu_
  std::map<std::string, Service> services_;  // guarded by mu_
  std::optional<int> zookeeper_port_;        // guarded by mu_; loaded or picked once needed
};

}  // namespace

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
  return std::make_unique<LocalRuntime>(options, std::move(*lock));
}

}  // namespace byoc::agent
