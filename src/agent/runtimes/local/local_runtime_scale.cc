// The local runtime: replicas added to and removed from a running
// replicated service (local_runtime_impl.h, "replicas added and removed").
//
// An added replica is marked joining (its `joining` file) before anything
// starts it. It starts like any other, but stays out of the endpoint and out
// of the cluster the others read until it has the tables another replica of
// its shard has (schema_copy.h) and has caught up with it; then the mark
// goes, the others reload their cluster and the endpoint sends to it. No
// rollout step begins while a replica joins.
//
// A dropped replica is out of the endpoint at once (the spec no longer has
// it) and marked leaving (its `leaving` file). It keeps running until every
// other replica of its shard has caught up with it (nothing written to it
// alone is lost); then its process is stopped, its node deleted from every
// replicated table in ZooKeeper, and its directory and ports go, the
// directory last. Each step is idempotent, so a kill -9 anywhere converges
// on the next round; a replica added back before its removal finished
// starts over as a new one (its data, whose ZooKeeper nodes may be gone,
// is deleted first).
#include "agent/runtimes/local/local_runtime_impl.h"
#include "agent/replicas/schema_copy.h"

namespace byoc::agent::local_impl {
namespace {

// A joining replica not in after this long makes the service report
// scale_failed (it keeps trying: the others serve meanwhile).
constexpr std::chrono::minutes kJoinBound{10};

// The shard of a replica directory's name ("s2r3" → 2); nullopt for any
// other name.
std::optional<int> shard_of_replica_dir(const std::string& name) {
  int shard = 0, replica = 0;
  char tail = 0;
  if (std::sscanf(name.c_str(), "s%dr%d%c", &shard, &replica, &tail) != 2 || shard < 1 || replica < 1 ||
      local::replica_name(shard, replica) != name)
    return std::nullopt;
  return shard;
}

}  // namespace

void LocalRuntime::plan_scaling_locked(const std::string& name, Service& service,
                                       const std::optional<ServiceSpec>& previous) {
  ServiceLayout l = layout(name);
  std::set<std::string> before;
  if (previous)
    for (const auto& r : local::replicas_of(*previous)) before.insert(r.name);
  std::set<std::string> now;
  for (const auto& r : local::replicas_of(service.spec)) {
    now.insert(r.name);
    const bool running = supervisor_.info(replica_key(name, r.name)) ||
                         local::Supervisor::find_running(l.replica_pid_file(r.name), clickhouse_marker(l, r.name));
    if (fs::exists(l.replica_leaving_file(r.name)) && !running) {
      // Added back before its removal finished: its ZooKeeper nodes may be
      // gone, so what it had is not to be trusted. (One still running is
      // the removal's to stop; it starts the replica over once it has.)
      std::error_code ec;
      fs::remove_all(l.replica_dir(r.name), ec);
      if (ec) throw Error::Internal("cannot delete " + l.replica_dir(r.name).string() + ": " + ec.message());
      service.versions.erase(r.name);
    }
    const bool added = (previous && !before.count(r.name)) || !fs::exists(l.replica_dir(r.name));
    if (previous && added && !fs::exists(l.replica_joining_file(r.name)) &&
        !fs::exists(l.replica_data(r.name) / "metadata")) {
      files::ensure_dir(l.replica_dir(r.name), 0700);
      files::write_atomic(l.replica_joining_file(r.name), "", 0600);
      spdlog::info("local runtime: {}/{} joins the service", name, r.name);
    }
    if (fs::exists(l.replica_joining_file(r.name))) service.joining.insert(r.name);
  }
}

void LocalRuntime::forget_dropped_locked(const std::string& name, Service& service) {
  std::set<std::string> now;
  for (const auto& r : local::replicas_of(service.spec)) now.insert(r.name);
  for (auto it = service.versions.begin(); it != service.versions.end();)
    it = now.count(it->first) ? std::next(it) : service.versions.erase(it);
  for (auto it = service.joining.begin(); it != service.joining.end();)
    it = now.count(*it) ? std::next(it) : service.joining.erase(it);
  for (auto it = service.joining_since.begin(); it != service.joining_since.end();)
    it = service.joining.count(it->first) ? std::next(it) : service.joining_since.erase(it);
  service.wiring.joining = service.joining;
  // A step under way on a replica the spec dropped ends here: the removal
  // takes the replica, and the rollout goes on with the others.
  if (service.rollout && service.rollout->phase != local::StepPhase::kNone &&
      !now.count(service.rollout->step_replica)) {
    spdlog::info("local runtime: {}/{} leaves the service in mid-step; the rollout goes on without it", name,
                 service.rollout->step_replica);
    service.drained.erase(service.rollout->step_replica);
    service.rollout->phase = local::StepPhase::kNone;
    service.rollout->step_replica.clear();
    save_rollout_locked(name, service);
  }
}

void LocalRuntime::advance_scaling() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, service] : services_)
      if (!service.joining.empty() || !dropped_replicas_locked(name, service).empty()) names.push_back(name);
  }
  for (const auto& name : names) {
    try {
      advance_joins(name);
      remove_dropped_replicas(name);
    } catch (const std::exception& e) {
      spdlog::error("local runtime: the replicas of {} cannot change now: {}", name, e.what());
    }
  }
}

std::vector<std::string> LocalRuntime::dropped_replicas_locked(const std::string& name, const Service& service) const {
  std::set<std::string> kept;
  for (const auto& r : local::replicas_of(service.spec)) kept.insert(r.name);
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(layout(name).dir(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string dir = it->path().filename().string();
    if (it->is_directory() && shard_of_replica_dir(dir) && !kept.count(dir)) out.push_back(dir);
  }
  return out;
}

replicas::ReplicaAccess LocalRuntime::replica_access_locked(const Service& service, const std::string& replica) const {
  return replicas::ReplicaAccess{service.wiring.ports.replicas.at(replica).http, local::kClusterUser,
                              service.wiring.cluster_password, service.wiring.zookeeper_port > 0};
}

bool LocalRuntime::serving_locked(const std::string& name, const Service& service, const std::string& replica) const {
  auto info = supervisor_.info(replica_key(name, replica));
  return info && info->state == ProcessState::kRunning && service.health.known(replica) &&
         service.health.answers(replica);
}

void LocalRuntime::advance_joins(const std::string& name) {
  struct Join {
    std::string replica;
    replicas::ReplicaAccess source, target;
  };
  std::vector<Join> joins;
  {
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it == services_.end()) return;
    Service& service = it->second;
    const MonotonicTime now = options_.clock->monotonic_time();
    const auto refs = local::replicas_of(service.spec);
    for (const auto& j : service.joining) {
      service.joining_since.try_emplace(j, now);
      if (!serving_locked(name, service, j)) continue;
      auto me = std::find_if(refs.begin(), refs.end(), [&](const local::ReplicaRef& r) { return r.name == j; });
      for (const auto& r : refs)
        if (me != refs.end() && r.shard == me->shard && r.name != j && !service.joining.count(r.name) &&
            serving_locked(name, service, r.name)) {
          joins.push_back({j, replica_access_locked(service, r.name), replica_access_locked(service, j)});
          break;
        }
    }
  }
  for (const auto& join : joins) {
    // Outside the lock: each is a few loopback queries.
    std::string error;
    if (!replicas::copy_schema(join.source, join.target, &error)) {
      if (!error.empty()) spdlog::warn("local runtime: {}/{} cannot get its tables yet: {}", name, join.replica, error);
      continue;
    }
    if (!replicas::has_caught_up(join.source, join.target) ||
        !local::gate_passes(local::Gate::kCluster, join.target))
      continue;
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it == services_.end() || !it->second.joining.count(join.replica)) continue;
    Service& service = it->second;
    std::error_code ec;
    fs::remove(layout(name).replica_joining_file(join.replica), ec);
    if (ec) throw Error::Internal("cannot remove the joining mark of " + join.replica + ": " + ec.message());
    service.joining.erase(join.replica);
    service.joining_since.erase(join.replica);
    service.wiring.joining = service.joining;
    spdlog::info("local runtime: {}/{} has its tables and caught up: it serves", name, join.replica);
    rewrite_locked(name, service);  // the others' clusters take it in (ClickHouse reloads them)
    sync_endpoint_locked(name, service);
  }
}

void LocalRuntime::remove_dropped_replicas(const std::string& name) {
  struct Leave {
    std::string replica;
    std::optional<replicas::ReplicaAccess> access;  // while its ports are known
    std::vector<replicas::ReplicaAccess> others;    // the shard's replicas that stay
  };
  std::vector<Leave> leaving;
  {
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it == services_.end()) return;
    Service& service = it->second;
    // Not before the endpoint serves a config without them.
    if (!endpoint_confirmed_locked(name, service)) return;
    ServiceLayout l = layout(name);
    for (const auto& replica : dropped_replicas_locked(name, service)) {
      if (!fs::exists(l.replica_leaving_file(replica))) files::write_atomic(l.replica_leaving_file(replica), "", 0600);
      Leave leave{replica, std::nullopt, {}};
      if (service.wiring.ports.replicas.count(replica)) leave.access = replica_access_locked(service, replica);
      const std::optional<int> shard = shard_of_replica_dir(replica);
      for (const auto& r : local::replicas_of(service.spec))
        if (r.shard == shard && !service.joining.count(r.name))
          leave.others.push_back(replica_access_locked(service, r.name));
      leaving.push_back(std::move(leave));
    }
  }
  for (const auto& leave : leaving) {
    // What was written to it alone reaches the others before it goes (one
    // that no longer answers has nothing more to give). Probed outside the lock.
    if (leave.access && local::clickhouse_answers(leave.access->http_port) &&
        !std::all_of(leave.others.begin(), leave.others.end(),
                     [&](const replicas::ReplicaAccess& other) { return replicas::has_caught_up(*leave.access, other); }))
      continue;
    local::StopPlan stops;
    int zookeeper_port = 0;
    {
      std::lock_guard lock(mu_);
      auto it = services_.find(name);
      if (it == services_.end()) return;
      ServiceLayout l = layout(name);
      std::optional<pid_t> pid = supervisor_.release(replica_key(name, leave.replica));
      if (!pid)
        pid = local::Supervisor::find_running(l.replica_pid_file(leave.replica), clickhouse_marker(l, leave.replica));
      if (pid) stops.replicas.emplace_back(*pid, l.replica_pid_file(leave.replica));
      zookeeper_port = it->second.wiring.zookeeper_port;
    }
    local::stop_in_order(stops);  // graceful, bounded
    if (zookeeper_port > 0) {
      // Without this the others would keep their replication log for it.
      const std::string chroot = local::zookeeper_chroot(name);
      auto zk = connect_zookeeper(zookeeper_port, kZooKeeperSessionTimeout, *options_.clock);
      int tables =
          local::remove_replica(*zk, chroot, leave.replica, {chroot + "/clickhouse/" + name + "/task_queue"});
      spdlog::info("local runtime: {}/{} left {} replicated table(s)", name, leave.replica, tables);
    }
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it == services_.end()) return;
    Service& service = it->second;
    ServiceLayout l = layout(name);
    std::error_code ec;
    const auto dropped = dropped_replicas_locked(name, service);
    if (std::find(dropped.begin(), dropped.end(), leave.replica) == dropped.end()) {
      // Added back meanwhile: it starts over as a new replica.
      fs::remove_all(l.replica_data(leave.replica), ec);
      if (ec) throw Error::Internal("cannot delete " + l.replica_data(leave.replica).string() + ": " + ec.message());
      files::write_atomic(l.replica_joining_file(leave.replica), "", 0600);
      fs::remove(l.replica_leaving_file(leave.replica), ec);
      service.joining.insert(leave.replica);
      service.wiring.joining = service.joining;
      rewrite_locked(name, service);
      run_replica_locked(name, leave.replica);
      spdlog::info("local runtime: {}/{} was added back: it joins again", name, leave.replica);
      continue;
    }
    fs::remove_all(l.replica_dir(leave.replica), ec);
    if (ec) throw Error::Internal("cannot delete " + l.replica_dir(leave.replica).string() + ": " + ec.message());
    service.wiring.ports.replicas.erase(leave.replica);
    local::save_ports(l.ports_file(), service.wiring.ports);
    spdlog::info("local runtime: {}/{} removed", name, leave.replica);
  }
}

void LocalRuntime::report_scaling(const std::string& name, ServiceStatus& status) {
  std::lock_guard lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end() || status.state == ServiceState::kFailed) return;
  const Service& service = it->second;
  if (service.joining.empty() && dropped_replicas_locked(name, service).empty()) return;
  const MonotonicTime now = options_.clock->monotonic_time();
  for (const auto& [replica, since] : service.joining_since)
    if (now - since > kJoinBound) {
      status.reason = "scale_failed";  // the others serve; it keeps trying
      return;
    }
  // A joining replica that is still starting is the change itself: the
  // service reports scaling then too, as the Kubernetes runtime does.
  if (status.reason.empty() || status.reason == "starting") {
    status.state = ServiceState::kProvisioning;
    status.reason = "scaling";
  }
}

}  // namespace byoc::agent::local_impl
