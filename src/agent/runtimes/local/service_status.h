// A local service's status from what was seen of its processes: a pure
// function, so every combination is tested without a process. The local
// runtime gathers the views (supervisor records, pid files, probes) and
// derives the status here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/runtime.h"
#include "agent/runtimes/local/supervisor.h"

namespace byoc::agent::local {

// One process as observe() sees it: supervised (with its supervisor record),
// or only found through its pid file (running from an earlier runtime, not
// adopted yet), or not running.
struct ProcessView {
  std::optional<ProcessInfo> supervised;
  bool running_unsupervised = false;
  bool running() const {
    return supervised ? supervised->state == ProcessState::kRunning : running_unsupervised;
  }
  bool restarting() const { return supervised && supervised->state != ProcessState::kRunning; }
  bool failed() const { return supervised && supervised->state == ProcessState::kFailed; }
};

struct ReplicaObservation {
  int shard = 1;
  int replica = 1;
  ProcessView process;
  bool answers = false;  // its HTTP port answered (or the health table says so)
};

struct ServiceObservation {
  std::string name;
  std::string endpoint;         // "https://127.0.0.1:PORT"
  std::string native_endpoint;  // "" when not offered
  std::string support_gateway;  // "" when the service has none
  std::vector<ReplicaObservation> replicas;
  ProcessView endpoint_process;
  // nginx answers /ping with the config on disk, no worker of an older one left.
  bool endpoint_serves_current_config = false;
  bool replicated = false;
  ProcessView zookeeper;
  bool zookeeper_answers = false;
  // apply() asked for processes that wait for something before they start
  // (replicas for their chroot, the endpoint for its replicas): starting,
  // not stopped.
  bool start_pending = false;
};

ReplicaState replica_state(const ProcessView& view, bool answers);

// READY when every replica runs and answers, the endpoint serves the current
// config and (replicated) ZooKeeper answers; FAILED when a replica or the
// endpoint gave up (replica_failed / endpoint_failed); else PROVISIONING,
// `stopped` (nothing runs and nothing is about to), `restarting` or `starting`.
ServiceStatus derive_status(const ServiceObservation& seen);

}  // namespace byoc::agent::local
