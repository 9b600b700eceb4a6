#include "agent/runtimes/local/local_runtime.h"

#include <signal.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/probes.h"
#include "agent/runtimes/local/proc_table.h"
#include "agent/runtimes/local/service_files.h"
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
using SteadyClock = std::chrono::steady_clock;

// The only ClickHouse this machine has (Debian 12's package).
constexpr const char* kLocalClickHouseVersion = "18.16.1";
// nginx drains in well under a second; ClickHouse may need ~15 s to let go of
// keep-alive clients (the endpoint is stopped first, so usually ~1 s).
constexpr std::chrono::seconds kEndpointStopGrace{5};
constexpr std::chrono::seconds kReplicaStopGrace{30};
// A SIGHUP whose config has not shown up after this long is sent again.
constexpr std::chrono::seconds kReloadRetry{3};
constexpr const char* kNginxComm = "nginx";
constexpr const char* kClickHouseComm = "clickhouse-serv";  // the kernel keeps 15 characters

std::string replica_key(const std::string& service, const std::string& replica) {
  return service + "/" + replica;
}
std::string endpoint_key(const std::string& service) { return service + "/endpoint"; }

std::string clickhouse_marker(const ServiceLayout& layout, const std::string& replica) {
  return "--config-file=" + layout.replica_config(replica).string();
}
std::string nginx_marker(const ServiceLayout& layout) { return layout.nginx_conf().string(); }

// Pauses between probes: 10 ms doubling to 100 ms.
class Backoff {
 public:
  void wait() {
    std::this_thread::sleep_for(pause_);
    pause_ = std::min(pause_ * 2, std::chrono::milliseconds(100));
  }

 private:
  std::chrono::milliseconds pause_{10};
};

// What one process of a service looks like to observe(): supervised (with
// its supervisor record), or only found through its pid file (running from an
// earlier runtime and not adopted yet), or not running.
struct ProcessView {
  std::optional<ProcessInfo> supervised;
  bool running_unsupervised = false;
  bool running() const {
    return supervised ? supervised->state == ProcessState::kRunning : running_unsupervised;
  }
};

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
    // More replicas need ZooKeeper, more shards a cluster user: later issues.
    if (spec.shards != 1 || spec.replicas != 1) return refused(spec.name, "unsupported_topology");
    {
      std::lock_guard lock(mu_);
      prepare_locked(spec);
      start_locked(spec.name);
    }
    wait_ready(spec.name);
    return observe_service(spec.name);
  }

  void remove(const std::string& service) override {
    local::check_service_name(service);  // the name becomes a path we delete
    stop_service(service, /*forget=*/true);
    ServiceLayout layout(options_.root, service);
    std::error_code ec;
    fs::remove_all(layout.dir(), ec);
    if (ec) throw Error::Internal("cannot delete " + layout.dir().string() + ": " + ec.message());
    spdlog::info("local runtime: removed {}", service);
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
        // Not a service directory (nothing we created).
      }
    }
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, service] : services_) names.insert(name);
    }
    return {names.begin(), names.end()};
  }

  void supervise() override {
    std::lock_guard lock(mu_);
    supervisor_.poll();
  }

  void stop_all() override {
    for (const auto& name : services()) stop_service(name, /*forget=*/false);
  }

 private:
  struct Service {
    ServiceSpec spec;
    local::ServicePorts ports;
    std::string nginx_revision;  // of the nginx.conf on disk
  };

  ServiceLayout layout(const std::string& service) const { return ServiceLayout(options_.root, service); }

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

  // Ports of every service of this root, so a new one never reuses them.
  std::set<int> ports_in_use_locked() const {
    std::set<int> taken;
    for (const auto& [name, service] : services_)
      for (int p : local::all_ports(service.ports)) taken.insert(p);
    std::error_code ec;
    for (fs::directory_iterator it(options_.root, ec), end; !ec && it != end; it.increment(ec)) {
      try {
        if (auto ports = local::load_ports(it->path() / "ports.json"))
          for (int p : local::all_ports(*ports)) taken.insert(p);
      } catch (const Error&) {
        // A malformed ports file belongs to a service apply() will repair.
      }
    }
    return taken;
  }

  void rewrite_locked(Service& service) {
    local::WriteResult written =
        local::write_service_files(layout(service.spec.name), service.spec, service.ports, writer_options());
    service.nginx_revision = written.nginx_revision;
  }

  void prepare_locked(const ServiceSpec& spec) {
    std::set<int> taken = ports_in_use_locked();
    local::ServicePorts ports = local::ensure_ports(layout(spec.name), spec, taken);
    Service& service = services_[spec.name];
    service.spec = spec;
    service.ports = ports;
    rewrite_locked(service);
  }

  void start_locked(const std::string& name) {
    const Service& service = services_.at(name);
    ServiceLayout l = layout(name);
    for (const auto& r : local::replicas_of(service.spec)) {
      local::ProcessSpec p;
      p.argv = {options_.clickhouse_binary.string(), clickhouse_marker(l, r.name)};
      p.cwd = l.replica_dir(r.name);
      p.output = l.replica_output(r.name);
      p.pid_file = l.replica_pid_file(r.name);
      p.cmdline_marker = clickhouse_marker(l, r.name);
      p.comm = kClickHouseComm;
      p.before_start = [this, name, replica = r.name] { before_replica_start(name, replica); };
      supervisor_.ensure_running(replica_key(name, r.name), std::move(p));
    }
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
    supervisor_.ensure_running(endpoint_key(name), std::move(p));
  }

  // Runs under mu_ (from the supervisor) right before a replica starts: a
  // port someone else took since we picked it is re-picked, and every file
  // naming it (all replicas' clusters, the endpoint's upstream) rewritten.
  void before_replica_start(const std::string& name, const std::string& replica) {
    auto it = services_.find(name);
    if (it == services_.end()) throw Error::Internal("service " + name + " is no longer known");
    Service& service = it->second;
    local::ReplicaPorts& ports = service.ports.replicas.at(replica);
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
    local::save_ports(layout(name).ports_file(), service.ports);
    rewrite_locked(service);
    // The endpoint's upstream moved; wait_ready()/the next apply confirm the reload.
    supervisor_.signal(endpoint_key(name), SIGHUP);
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
        auto deadline = SteadyClock::now() + std::chrono::seconds(2);
        Backoff backoff;
        while (!local::port_bindable(service.ports.https) && SteadyClock::now() < deadline) backoff.wait();
      }
    }
    std::set<int> taken = ports_in_use_locked();
    bool moved = false;
    for (int* port : {&service.ports.https, &service.ports.native_tls}) {
      if (local::port_bindable(*port)) continue;
      int old = *port;
      *port = local::pick_port(taken);
      moved = true;
      spdlog::warn("local runtime: endpoint port {} of {} is taken; moving to {}", old, name, *port);
    }
    if (!moved) return;
    local::save_ports(l.ports_file(), service.ports);
    rewrite_locked(service);
  }

  struct Snapshot {
    bool known = false;
    std::vector<int> replica_http_ports;
    int https_port = 0;
    std::string revision;
    pid_t nginx_pid = 0;
  };

  Snapshot snapshot_locked(const std::string& name) {
    Snapshot s;
    auto it = services_.find(name);
    if (it == services_.end()) return s;
    s.known = true;
    for (const auto& r : local::replicas_of(it->second.spec))
      s.replica_http_ports.push_back(it->second.ports.replicas.at(r.name).http);
    s.https_port = it->second.ports.https;
    s.revision = it->second.nginx_revision;
    auto info = supervisor_.info(endpoint_key(name));
    if (info && info->state == ProcessState::kRunning) s.nginx_pid = info->pid;
    return s;
  }

  // Polls (supervising meanwhile, so a crash while starting is restarted)
  // until every replica answers, nginx runs the config on disk and no worker
  // of an older config still accepts connections; or until ready_timeout.
  bool wait_ready(const std::string& name) {
    const auto deadline = SteadyClock::now() + options_.ready_timeout;
    std::optional<SteadyClock::time_point> last_reload;
    std::vector<pid_t> old_workers;
    Backoff backoff;
    while (true) {
      Snapshot s;
      {
        std::lock_guard lock(mu_);
        supervisor_.poll();
        s = snapshot_locked(name);
      }
      if (!s.known) return false;
      bool replicas_ok = std::all_of(s.replica_http_ports.begin(), s.replica_http_ports.end(),
                                     [](int port) { return local::clickhouse_answers(port); });
      local::EndpointProbe endpoint;
      if (s.nginx_pid > 0) endpoint = local::probe_endpoint(s.https_port, options_.environment_ca.cert_pem);
      if (s.nginx_pid > 0 && !endpoint.revision.empty() && endpoint.revision != s.revision &&
          (!last_reload || SteadyClock::now() - *last_reload >= kReloadRetry)) {
        // Level-triggered: whatever left nginx on an older config (an allowlist
        // change, a crash between write and signal), a HUP converges it.
        std::lock_guard lock(mu_);
        old_workers = local::child_processes(s.nginx_pid);
        if (supervisor_.signal(endpoint_key(name), SIGHUP)) {
          spdlog::info("local runtime: reloading the endpoint of {}", name);
          last_reload = SteadyClock::now();
        }
      }
      bool old_config_gone = std::all_of(old_workers.begin(), old_workers.end(), [](pid_t worker) {
        // A worker told to quit closes its listeners and says so in its title.
        std::string title = local::process_cmdline(worker);
        return title.empty() || title.find("shutting down") != std::string::npos;
      });
      if (replicas_ok && endpoint.ping_ok && endpoint.revision == s.revision && old_config_gone) return true;
      if (SteadyClock::now() >= deadline) {
        spdlog::warn("local runtime: {} not ready after {} ms", name, options_.ready_timeout.count());
        return false;
      }
      backoff.wait();
    }
  }

  ProcessView view_locked(const std::string& key, const fs::path& pid_file, const std::string& marker) {
    ProcessView view;
    view.supervised = supervisor_.info(key);
    if (!view.supervised)
      view.running_unsupervised = local::Supervisor::find_running(pid_file, marker).has_value();
    return view;
  }

  static ReplicaState replica_state(const ProcessView& view, bool answers) {
    if (view.supervised) {
      switch (view.supervised->state) {
        case ProcessState::kRunning: return answers ? ReplicaState::kRunning : ReplicaState::kStarting;
        case ProcessState::kBackoff: return ReplicaState::kRestarting;
        case ProcessState::kFailed: return ReplicaState::kFailed;
      }
    }
    if (!view.running_unsupervised) return ReplicaState::kStopped;
    return answers ? ReplicaState::kRunning : ReplicaState::kStarting;
  }

  ServiceStatus observe_service(const std::string& name) {
    ServiceStatus status;
    status.name = name;
    ServiceLayout l = layout(name);
    std::optional<ServiceSpec> spec;
    std::optional<local::ServicePorts> ports;
    std::vector<std::pair<local::ReplicaRef, ProcessView>> replicas;
    ProcessView endpoint;
    try {
      std::lock_guard lock(mu_);
      if (auto it = services_.find(name); it != services_.end()) {
        spec = it->second.spec;
        ports = it->second.ports;
      } else {
        spec = local::load_spec(l.spec_file());
        ports = local::load_ports(l.ports_file());
      }
      if (spec) {
        for (const auto& r : local::replicas_of(*spec))
          replicas.emplace_back(r, view_locked(replica_key(name, r.name), l.replica_pid_file(r.name),
                                               clickhouse_marker(l, r.name)));
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
    status.endpoint = "https://127.0.0.1:" + std::to_string(ports->https);
    if (!options_.nginx_stream_module.empty() && ports->native_tls > 0)
      status.native_endpoint = "127.0.0.1:" + std::to_string(ports->native_tls);

    bool all_running = true, any_failed = false, any_restarting = false, all_stopped = true;
    for (const auto& [ref, view] : replicas) {
      auto port_it = ports->replicas.find(ref.name);
      bool answers = view.running() && port_it != ports->replicas.end() &&
                     local::clickhouse_answers(port_it->second.http);
      ReplicaStatus r;
      r.shard = ref.shard;
      r.replica = ref.replica;
      r.state = replica_state(view, answers);
      status.replicas.push_back(r);
      all_running &= r.state == ReplicaState::kRunning;
      any_failed |= r.state == ReplicaState::kFailed;
      any_restarting |= r.state == ReplicaState::kRestarting;
      all_stopped &= r.state == ReplicaState::kStopped;
    }
    bool endpoint_ready =
        endpoint.running() && local::probe_endpoint(ports->https, options_.environment_ca.cert_pem).ping_ok;
    bool endpoint_failed = endpoint.supervised && endpoint.supervised->state == ProcessState::kFailed;
    bool endpoint_restarting = endpoint.supervised && endpoint.supervised->state == ProcessState::kBackoff;

    if (all_running && endpoint_ready) {
      status.state = ServiceState::kReady;
    } else if (any_failed || endpoint_failed) {
      status.state = ServiceState::kFailed;
      status.reason = any_failed ? "replica_failed" : "endpoint_failed";
    } else {
      status.state = ServiceState::kProvisioning;
      if (all_stopped && !endpoint.running() && !endpoint_restarting)
        status.reason = "stopped";
      else if (any_restarting || endpoint_restarting)
        status.reason = "restarting";
      else
        status.reason = "starting";
    }
    return status;
  }

  // Stops the endpoint, then the replicas (SIGTERM, bounded wait, SIGKILL of
  // the process group), supervised or merely found through pid files.
  void stop_service(const std::string& name, bool forget) {
    ServiceLayout l = layout(name);
    std::optional<pid_t> endpoint_pid;
    std::vector<std::pair<pid_t, fs::path>> replica_pids;
    {
      std::lock_guard lock(mu_);
      endpoint_pid = supervisor_.release(endpoint_key(name));
      if (!endpoint_pid) endpoint_pid = local::Supervisor::find_running(l.nginx_pid_file(), nginx_marker(l));
      std::set<std::string> replicas;
      const std::string prefix = name + "/";
      for (const auto& key : supervisor_.keys())
        if (key.rfind(prefix, 0) == 0) replicas.insert(key.substr(prefix.size()));
      std::error_code ec;
      for (fs::directory_iterator it(l.dir(), ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory() && fs::exists(it->path() / "config.xml"))
          replicas.insert(it->path().filename().string());
      for (const auto& replica : replicas) {
        std::optional<pid_t> pid = supervisor_.release(replica_key(name, replica));
        if (!pid)
          pid = local::Supervisor::find_running(l.replica_pid_file(replica), clickhouse_marker(l, replica));
        if (pid) replica_pids.emplace_back(*pid, l.replica_pid_file(replica));
      }
      if (forget) services_.erase(name);
    }
    std::error_code ec;
    if (endpoint_pid) {
      proc::terminate(*endpoint_pid, kEndpointStopGrace);
      local::kill_group_members(*endpoint_pid, kNginxComm);
    }
    fs::remove(l.nginx_pid_file(), ec);
    for (const auto& [pid, pid_file] : replica_pids) {
      proc::terminate(pid, kReplicaStopGrace);
      fs::remove(pid_file, ec);
    }
    if (endpoint_pid || !replica_pids.empty())
      spdlog::info("local runtime: stopped {} ({} process(es))", name,
                   replica_pids.size() + (endpoint_pid ? 1 : 0));
  }

  LocalRuntimeOptions options_;
  proc::FileLock lock_;
  std::mutex mu_;
  local::Supervisor supervisor_;             // guarded by mu_
  std::map<std::string, Service> services_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<Runtime> make_local_runtime(const LocalRuntimeOptions& options) {
  if (options.root.empty() || !options.root.is_absolute())
    throw Error::Invalid("invalid_root", "the runtime root must be an absolute path", "root");
  if (!options.clock) throw Error::Invalid("invalid_clock", "a clock is required", "clock");
  // The root ends up in ClickHouse and nginx config files: no characters that need quoting.
  render::require_absolute_path(options.root.string(), "root");
  files::ensure_dir(options.root, 0700);
  auto lock = proc::FileLock::try_acquire(options.root / ".lock");
  if (!lock) throw Error::Conflict("runtime_busy", "another runtime holds " + options.root.string(), "root");
  return std::make_unique<LocalRuntime>(options, std::move(*lock));
}

}  // namespace byoc::agent
