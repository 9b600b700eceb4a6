#include "agent/runtimes/local/service_status.h"

namespace byoc::agent::local {

ReplicaState replica_state(const ProcessView& view, bool answers) {
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

ServiceStatus derive_status(const ServiceObservation& seen) {
  ServiceStatus status;
  status.name = seen.name;
  status.endpoint = seen.endpoint;
  status.native_endpoint = seen.native_endpoint;
  status.support_gateway = seen.support_gateway;
  bool all_running = true, any_failed = false, any_restarting = false, all_stopped = true;
  for (const auto& v : seen.replicas) {
    ReplicaStatus r;
    r.shard = v.shard;
    r.replica = v.replica;
    r.state = replica_state(v.process, v.process.running() && v.answers);
    status.replicas.push_back(r);
    all_running &= r.state == ReplicaState::kRunning;
    any_failed |= r.state == ReplicaState::kFailed;
    any_restarting |= r.state == ReplicaState::kRestarting;
    all_stopped &= r.state == ReplicaState::kStopped;
  }
  const ProcessView& endpoint = seen.endpoint_process;
  bool zookeeper_ok = !seen.replicated || (seen.zookeeper.running() && seen.zookeeper_answers);
  bool endpoint_ready = endpoint.running() && seen.endpoint_serves_current_config;
  if (all_running && endpoint_ready && zookeeper_ok) {
    status.state = ServiceState::kReady;
  } else if (any_failed || endpoint.failed()) {
    status.state = ServiceState::kFailed;
    status.reason = any_failed ? "replica_failed" : "endpoint_failed";
  } else {
    status.state = ServiceState::kProvisioning;
    if (all_stopped && !endpoint.running() && !endpoint.restarting() && !seen.start_pending)
      status.reason = "stopped";
    else if (any_restarting || endpoint.restarting() || (seen.replicated && seen.zookeeper.restarting()))
      status.reason = "restarting";
    else
      status.reason = "starting";
  }
  return status;
}

}  // namespace byoc::agent::local
