// The local runtime's class, shared by the files that implement it, each
// one idea: local_runtime.cc (the coordinator: apply, remove, observe,
// supervise, stop), local_runtime_zookeeper.cc (the environment's ZooKeeper
// and the services' chroots), local_runtime_endpoint.cc (starting what
// apply() asked for once it can start, replica health, and confirming nginx
// reloads) and
// local_runtime_observe.cc (gathering what a service's status is derived
// from; the derivation itself is service_status.h, and the stop order
// stop_plan.h). Internal to the local runtime: include local_runtime.h.
#pragma once

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
#include "agent/runtimes/local/rollout_gates.h"
#include "agent/runtimes/local/rollout_record.h"
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


namespace byoc::agent::local_impl {

namespace fs = std::filesystem;
using local::ProcessInfo;
using local::ProcessState;
using local::ServiceLayout;

// A SIGHUP whose config has not shown up after this long is sent again.
constexpr std::chrono::seconds kReloadRetry{3};
// Creating or deleting a chroot: a session must be up within this long. A
// ZooKeeper that has just started answers `ruok` a moment before it takes
// sessions, and the C client then waits seconds before its next try: each
// attempt gets a short timeout and a fresh client instead.
constexpr std::chrono::seconds kZooKeeperSessionTimeout{5};
constexpr std::chrono::milliseconds kZooKeeperSessionAttempt{400};
// A stopped endpoint starts once every replica answers (its first config
// then sends to all of them: no reload on the way to READY), or this long
// after its replicas were started, with whatever answers by then.
constexpr std::chrono::seconds kEndpointStartWait{5};
constexpr const char* kNginxComm = "nginx";
constexpr const char* kClickHouseComm = "clickhouse-serv";  // the kernel keeps 15 characters
// Supervisor key of the environment's ZooKeeper (no service name starts with '_').
constexpr const char* kZooKeeperKey = "_zookeeper";

inline std::string replica_key(const std::string& service, const std::string& replica) {
  return service + "/" + replica;
}
inline std::string endpoint_key(const std::string& service) { return service + "/endpoint"; }

inline std::string clickhouse_marker(const ServiceLayout& layout, const std::string& replica) {
  return "--config-file=" + layout.replica_config(replica).string();
}
inline std::string nginx_marker(const ServiceLayout& layout) { return layout.nginx_conf().string(); }

// Pauses between probes: 2 ms doubling to 20 ms, so a wait ends within 20 ms
// of the condition holding. Each probe is a loopback connection: a refused
// one costs microseconds. (Only the short, bounded waits of a start use it:
// apply() itself never waits for a process.)
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
inline bool old_config_gone(const std::vector<pid_t>& old_workers) {
  return std::all_of(old_workers.begin(), old_workers.end(), [](pid_t worker) {
    std::string title = local::process_cmdline(worker);
    return title.empty() || title.find("shutting down") != std::string::npos;
  });
}

// A session with the local ZooKeeper on `port`, tried until `timeout`
// passes. Throws byoc::Error kUnavailable if none could be had.
inline std::unique_ptr<local::ZooKeeperClient> connect_zookeeper(int port, std::chrono::milliseconds timeout,
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

  ServiceStatus apply(const ServiceSpec& spec) override;

  void set_support_gateway(const SupportGateway& gateway) override;

  void remove(const std::string& service) override;

  std::vector<ServiceStatus> observe() override;

  std::vector<std::string> services() override;

  void supervise() override;

  void stop_all() override;

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
    // apply() asked for the replicas to run: supervise() starts them once
    // what they need first is there (a replicated service's chroot).
    bool start_wanted = false;
    // The replicas were started and the endpoint was not running: it starts
    // once every replica answers, or at this time.
    std::optional<MonotonicTime> endpoint_start_by;
    // When apply() last found work to do, until the service is seen READY:
    // for the log line that says how long the work took (benchmarks read it).
    std::optional<MonotonicTime> applied_at;
    // What each replica runs (its version.json), and the rollout moving
    // them to the spec's version (rollout.json); see local_runtime_rollout.cc.
    std::map<std::string, local::RunningVersion> versions;
    std::optional<local::RolloutRecord> rollout;
    // Replicas a rollout step holds out of the endpoint.
    std::set<std::string> drained;
    // The gate the step's replica is at and when it runs out (memory only:
    // after a restart the gates start over, each with its full bound).
    local::Gate gate = local::Gate::kStart;
    std::optional<MonotonicTime> gate_deadline;
    // Replicas added to the running service that have not got their tables
    // and caught up yet (their joining file): out of the endpoint. And when
    // this runtime first saw each (memory only: after a restart the bound
    // starts over).
    std::set<std::string> joining;
    std::map<std::string, MonotonicTime> joining_since;
  };

  ServiceLayout layout(const std::string& service) const { return ServiceLayout(options_.root, service); }
  local::ZooKeeperLayout zookeeper_layout() const { return local::ZooKeeperLayout(options_.root); }

  local::FileWriterOptions writer_options() const {
    return local::FileWriterOptions{options_.environment_ca, options_.clock, options_.nginx_binary,
                                    options_.nginx_stream_module.string()};
  }

  ServiceStatus refused(const std::string& name, const std::string& reason);

  // The spec's version as the agent's versions.json resolves it for this
  // runtime (a binary); nullopt for a name it doesn't list.
  std::optional<local::RunningVersion> resolve_version(const ServiceSpec& spec) const;

  // The spec the runtime runs for `name`: in memory, else from disk.
  std::optional<ServiceSpec> spec_locked(const std::string& name) const;

  std::vector<std::string> services_on_disk_locked() const;

  // Shards are fixed at creation, and so is whether the service is
  // replicated (ZooKeeper, a cluster): replicas may change within that
  // (local_runtime_scale.cc).
  bool topology_changes(const ServiceSpec& spec);

  // For a service this runtime doesn't know yet (after a restart): the
  // replicas whose persisted port answers /ping.
  std::set<std::string> answering_replicas(const ServiceSpec& spec);

  // Ports of every service of this root and of its ZooKeeper, so a new one
  // never reuses them.
  std::set<int> ports_in_use_locked() const;

  // ---- ZooKeeper ----

  void ensure_zookeeper_locked();

  // Runs under mu_ right before ZooKeeper starts. A stranger on its port
  // moves it; replicas read the ZooKeeper address only when they start, so
  // running ones are restarted (gracefully) onto the new port.
  void before_zookeeper_start();

  // Makes the service's chroot (deleting what an earlier service of the same
  // name left there first); true once it exists. Outside mu_.
  bool ensure_chroot(const std::string& name);

  // Deletes a removed service's chroot if ZooKeeper answers. If it doesn't,
  // the next service of that name deletes it (its chroot marker is gone).
  void drop_chroot(const std::string& name);

  // Chroots apply() could not make (ZooKeeper was late): made once it answers.
  void repair_chroots();

  void collect_zookeeper_locked(local::StopPlan& stops);

  // Stops ZooKeeper and deletes its data once no service needs it.
  void stop_zookeeper_if_unused();

  // ---- services ----

  void rewrite_locked(const std::string& name, Service& service);

  // The gateway's part of a service's wiring, as gateway_ says.
  void wire_gateway_locked(const std::string& name, Service& service);

  void prepare_locked(const ServiceSpec& spec, const std::set<std::string>& answering,
                      const local::RunningVersion& target);

  // ---- version rollouts (local_runtime_rollout.cc) ----

  // Each replica's running version: its version.json, else (a replica of an
  // earlier runtime, or a new one) `previous`'s version, recorded now.
  void load_versions_locked(const std::string& name, Service& service, const std::optional<ServiceSpec>& previous,
                            const local::RunningVersion& target);

  // Records (rollout.json, before anything acts on it) whether and how the
  // replicas move to `target`: a new request id or target starts a new
  // rollout (a step under way is finished first); the same one sent again
  // takes its new not_after.
  void plan_rollout_locked(const std::string& name, Service& service, const local::RunningVersion& target);

  // ---- replicas added and removed (local_runtime_scale.cc) ----

  // Marks the replicas `service.spec` adds to a running service as joining
  // (before anything starts them; one added back mid-removal starts over),
  // and loads the marks an earlier runtime left. Before the versions load.
  void plan_scaling_locked(const std::string& name, Service& service, const std::optional<ServiceSpec>& previous);
  // After the versions and the rollout load: forgets what the spec dropped
  // (versions, joins) and ends a rollout step on a dropped replica.
  void forget_dropped_locked(const std::string& name, Service& service);
  // Gives each joining replica its tables and lets it into the endpoint once
  // caught up; stops and deletes replicas the spec dropped (once the
  // endpoint serves without them), their ZooKeeper nodes included.
  // supervise() calls it.
  void advance_scaling();
  void advance_joins(const std::string& name);
  void remove_dropped_replicas(const std::string& name);
  replicas::ReplicaAccess replica_access_locked(const Service& service, const std::string& replica) const;
  // The replica's process runs and answered its last probe.
  bool serving_locked(const std::string& name, const Service& service, const std::string& replica) const;
  // Replica directories of the service that its spec no longer has.
  std::vector<std::string> dropped_replicas_locked(const std::string& name, const Service& service) const;
  // A service with joining replicas is not READY until they are in.
  void report_scaling(const std::string& name, ServiceStatus& status);

  // One phase of each service's rollout step; supervise() calls it.
  void advance_rollouts();
  void advance_rollout(const std::string& name);
  void begin_step_locked(const std::string& name, Service& service);
  void check_gate(const std::string& name);
  void fail_step_locked(const std::string& name, Service& service, local::Gate gate);
  // Stops the step's replica gracefully (bounded), outside mu_ (held on entry and return).
  void stop_step_replica(std::unique_lock<std::mutex>& lock, const std::string& name);
  // Records `version` as the replica's, rewrites its config and starts it.
  void restart_on_locked(const std::string& name, Service& service, const std::string& replica,
                         const local::RunningVersion& version);
  // Puts the step's replica back in the endpoint; true once the endpoint serves it (confirmed).
  bool return_to_endpoint_locked(const std::string& name, Service& service, const std::string& replica);
  // The endpoint runs and serves the config on disk, no worker of an older one left.
  bool endpoint_confirmed_locked(const std::string& name, const Service& service) const;
  void save_rollout_locked(const std::string& name, const Service& service);

  // The rollout's progress as reported, and the status it implies.
  void report_rollout(const std::string& name, ServiceStatus& status);

  // Starts (or adopts) one replica on its recorded version.
  void run_replica_locked(const std::string& name, const std::string& replica);

  // Records that apply() wants the service running; advance_starts() acts on it.
  void request_start_locked(const std::string& name);

  // Starts what apply() asked for and can start now: the replicas of a
  // service once its chroot exists (ClickHouse 18.16 doesn't create its root
  // node, and a replica whose first ZooKeeper session finds none gives up its
  // DDL queue, ON CLUSTER, until restarted), and a stopped endpoint once its
  // replicas answer or its wait is over. Level-triggered: apply() and
  // supervise() both call it.
  void advance_starts();

  // Starts (or adopts) the replicas, and adopts a running endpoint; a
  // stopped endpoint is left to advance_starts().
  void start_locked(const std::string& name);

  void start_endpoint_locked(const std::string& name);

  // A process that can't start now stays scheduled: supervise() retries it.
  void ensure_running(const std::string& key, local::ProcessSpec spec);

  // Runs under mu_ (from the supervisor) right before a replica starts: a
  // replicated service's chroot must exist; a port someone else took since
  // we picked it is re-picked, and every file naming it (all replicas'
  // clusters, the endpoint's upstream) rewritten.
  void before_replica_start(const std::string& name, const std::string& replica);

  // The replica is dead and about to start: what its last process left
  // active in ZooKeeper (after a kill -9) would hold its tables back for a
  // whole session timeout. Best effort: without ZooKeeper, ClickHouse waits.
  void clear_stale_activity_locked(const std::string& name, const std::string& replica);

  void before_endpoint_start(const std::string& name);

  // ---- health and endpoint reloads ----

  // Probes the replicas that are due (outside the lock), then points each
  // endpoint at the replicas that answer. `only`: one service, else all.
  void refresh_health(const std::string* only);

  // Rewrites the endpoint's upstreams when the set of answering replicas
  // changed; the reload follows once the endpoint is seen serving.
  void sync_endpoint_locked(const std::string& name, Service& service);

  // SIGHUP to the endpoint's master, remembering the workers of the config it
  // replaces. Only sent to a master seen serving (its signal handlers are set:
  // a HUP before that would end it).
  void reload_locked(const std::string& name, Service& service);

  // Level-triggered: an endpoint serving another revision than the one on
  // disk (a new config, a lost HUP, a crash between write and signal) is
  // reloaded; the same HUP is sent again if it has not shown up after
  // kReloadRetry.
  void converge_endpoint(const std::string& name, const local::EndpointProbe& probe);

  void confirm_reloads();

  // Every replica runs and its current process has answered /ping.
  bool replicas_answer_locked(const std::string& name, const Service& service) const;

  // ---- observation ----

  local::ProcessView view_locked(const std::string& key, const fs::path& pid_file, const std::string& marker);

  ServiceStatus observe_service(const std::string& name);

  // Logs how long a service took from apply() to READY, once per apply()
  // that had work to do. The only bookkeeping observation does.
  void log_ready(const std::string& name);

  // ---- stopping ----

  // Takes the service's processes out of supervision (supervised, or found
  // through pid files) into `stops`.
  void collect_service_locked(const std::string& name, bool forget, local::StopPlan& stops);

  LocalRuntimeOptions options_;
  proc::FileLock lock_;
  std::mutex mu_;
  std::mutex chroot_mu_;                     // serialises ensure_chroot(); taken before mu_
  local::Supervisor supervisor_;             // guarded by mu_
  std::map<std::string, Service> services_;  // guarded by mu_
  std::optional<int> zookeeper_port_;        // guarded by mu_; loaded or picked once needed
  SupportGateway gateway_;                   // guarded by mu_
  std::set<std::string> gateway_behind_;     // guarded by mu_: services not yet rewritten for gateway_
  // Rollouts refused for an unknown version, reported until that service's next accepted apply.
  std::map<std::string, model::ReportedRollout> refused_rollouts_;  // guarded by mu_
};

}  // namespace byoc::agent::local_impl
