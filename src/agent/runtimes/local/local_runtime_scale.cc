// The local runtime: replicas added to and removed from a running
// replicated service (local_runtime_impl.h, "replicas added and removed").
//
// An added replica is marked joining (its `joining` file) before anything
// starts it. It starts like any other, but stays out of the endpoint until
// it has the tables another replica of its shard has (schema_copy.h) and its
// replication queue is empty and its cluster gate passes; then the mark goes
// and the endpoint sends to it. A dropped replica is out of the endpoint at
// once (the spec no longer has it); once the endpoint serves without it, its
// process is stopped, its node is deleted from every replicated table in
// ZooKeeper, and its directory and ports go — each step idempotent, the
// directory last, so a kill -9 anywhere converges on the next round.
#include "agent/runtimes/local/local_runtime_impl.h"
#include "agent/runtimes/local/schema_copy.h"

namespace byoc::agent::local_impl {
namespace {

// A joining replica not in after this long makes the service report
// scale_failed (it keeps trying: the others serve meanwhile).
constexpr std::chrono::minutes kJoinBound{10};

bool is_replica_dir_name(const std::string& name) {
  int shard = 0, replica = 0;
  char tail = 0;
  return std::sscanf(name.c_str(), "s%dr%d%c", &shard, &replica, &tail) == 2 && shard > 0 && replica > 0 &&
         local::replica_name(shard, replica) == name;
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
    const bool added = previous && !before.count(r.name);
    if (added && !fs::exists(l.replica_joining_file(r.name)) && !fs::exists(l.replica_data(r.name) / "metadata")) {
      files::ensure_dir(l.replica_dir(r.name), 0700);
      files::write_atomic(l.replica_joining_file(r.name), "", 0600);
      spdlog::info("local runtime: {}/{} joins the service", name, r.name);
    }
    if (fs::exists(l.replica_joining_file(r.name))) service.joining.insert(r.name);
  }
  for (auto it = service.versions.begin(); it != service.versions.end();)
    it = now.count(it->first) ? std::next(it) : service.versions.erase(it);
  for (auto it = service.joining.begin(); it != service.joining.end();)
    it = now.count(*it) ? std::next(it) : service.joining.erase(it);
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
    } catch (const Error& e) {
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
    if (it->is_directory() && is_replica_dir_name(dir) && !kept.count(dir)) out.push_back(dir);
  }
  return out;
}

void LocalRuntime::advance_joins(const std::string& name) {
  struct Join {
    std::string replica;
    local::ReplicaAccess source, target;
  };
  std::vector<Join> joins;
  {
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it == services_.end()) return;
    Service& service = it->second;
    const MonotonicTime now = options_.clock->monotonic_time();
    auto access = [&](const std::string& replica) {
      return local::ReplicaAccess{service.wiring.ports.replicas.at(replica).http, local::kClusterUser,
                                  service.wiring.cluster_password, service.wiring.zookeeper_port > 0};
    };
    auto serving = [&](const std::string& replica) {
      auto info = supervisor_.info(replica_key(name, replica));
      return info && info->state == ProcessState::kRunning && service.health.known(replica) &&
             service.health.answers(replica);
    };
    for (const auto& j : service.joining) {
      service.joining_since.try_emplace(j, now);
      if (!serving(j)) continue;
      const auto refs = local::replicas_of(service.spec);
      auto me = std::find_if(refs.begin(), refs.end(), [&](const local::ReplicaRef& r) { return r.name == j; });
      for (const auto& r : refs)
        if (me != refs.end() && r.shard == me->shard && r.name != j && !service.joining.count(r.name) &&
            serving(r.name)) {
          joins.push_back({j, access(r.name), access(j)});
          break;
        }
    }
  }
  for (const auto& join : joins) {
    // Outside the lock: each is a few loopback queries.
    if (!local::copy_schema(join.source, join.target)) continue;
    if (!local::gate_passes(local::Gate::kReplicationQueue, join.target) ||
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
    spdlog::info("local runtime: {}/{} has its tables and caught up: it serves", name, join.replica);
    sync_endpoint_locked(name, service);
  }
}

void LocalRuntime::remove_dropped_replicas(const std::string& name) {
  std::vector<std::string> dropped;
  int zookeeper_port = 0;
  local::StopPlan stops;
  {
    std::lock_guard lock(mu_);
    auto it = services_.find(name);
    if (it == services_.end()) return;
    Service& service = it->second;
    dropped = dropped_replicas_locked(name, service);
    // Not before the endpoint serves a config without them.
    if (dropped.empty() || !endpoint_confirmed_locked(name, service)) return;
    ServiceLayout l = layout(name);
    for (const auto& replica : dropped) {
      std::optional<pid_t> pid = supervisor_.release(replica_key(name, replica));
      if (!pid) pid = local::Supervisor::find_running(l.replica_pid_file(replica), clickhouse_marker(l, replica));
      if (pid) stops.replicas.emplace_back(*pid, l.replica_pid_file(replica));
    }
    zookeeper_port = service.wiring.zookeeper_port;
  }
  local::stop_in_order(stops);  // graceful, bounded
  if (zookeeper_port > 0) {
    // Without this the others would keep their replication log for it.
    const std::string chroot = local::zookeeper_chroot(name);
    auto zk = connect_zookeeper(zookeeper_port, kZooKeeperSessionTimeout, *options_.clock);
    for (const auto& replica : dropped) {
      int tables = local::remove_replica(*zk, chroot, replica, {chroot + "/clickhouse/" + name + "/task_queue"});
      spdlog::info("local runtime: {}/{} left {} replicated table(s)", name, replica, tables);
    }
  }
  std::lock_guard lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end()) return;
  ServiceLayout l = layout(name);
  for (const auto& replica : dropped) {
    std::error_code ec;
    fs::remove_all(l.replica_dir(replica), ec);
    if (ec) throw Error::Internal("cannot delete " + l.replica_dir(replica).string() + ": " + ec.message());
    it->second.wiring.ports.replicas.erase(replica);
    spdlog::info("local runtime: {}/{} removed", name, replica);
  }
  local::save_ports(l.ports_file(), it->second.wiring.ports);
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
  if (status.reason.empty()) {
    status.state = ServiceState::kProvisioning;
    status.reason = "scaling";
  }
}

}  // namespace byoc::agent::local_impl
