// Runtime: how an agent runs ClickHouse services inside its environment. The
// agent loop owns the desired state and calls the runtime, reconciler-style:
// apply() observes what runs and creates or updates it to match the spec;
// remove() deletes; observe() reports. Every call is idempotent and safe to
// repeat after a crash of the agent (state lives on disk under the runtime's
// directory, never only in memory).
//
// Implementations: runtimes/local (real processes on this machine). A
// Kubernetes runtime is a new folder behind this same interface.
//
// Threading: one thread calls apply/remove/stop_all; supervise() and observe()
// may be called from another thread concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/protocol.h"

namespace byoc::agent {

// One service as the desired state gives it, whole (version, topology,
// sizes, allowlist, password hash, support user, cluster hosts), already
// validated by the agent against its invariants and the customer policy.
// The same type the protocol carries: a runtime sees every field, and a
// field added to the desired state reaches every runtime.
using ServiceSpec = model::DesiredService;

// Enumerations only: these travel to the management plane (telemetry allowlist).
enum class ReplicaState { kStarting, kRunning, kRestarting, kFailed, kStopped };
enum class ServiceState { kProvisioning, kReady, kFailed, kDeleting };

const char* to_string(ReplicaState s);  // "STARTING", "RUNNING", ...
const char* to_string(ServiceState s);  // "PROVISIONING", "READY", ...

struct ReplicaStatus {
  int shard = 1;    // 1-based
  int replica = 1;  // 1-based
  ReplicaState state = ReplicaState::kStarting;
  int last_error_code = 0;  // ClickHouse error code of the last failure, 0 if none
};

struct ServiceStatus {
  std::string name;
  ServiceState state = ServiceState::kProvisioning;
  std::string endpoint;  // "https://127.0.0.1:PORT" once the endpoint exists
  // "127.0.0.1:PORT": ClickHouse's native protocol over TLS (clickhouse-client
  // --secure), same certificate and allowlist; empty when not offered.
  std::string native_endpoint;
  // Machine-readable reason when not READY (enumerated, no free text), e.g.
  // "starting", "replica_failed", "unsupported_topology"; empty when READY.
  // A runtime refuses a spec it can't run (a changed topology, an unknown
  // version) with FAILED and an "unsupported_*" reason, touching nothing.
  std::string reason;
  std::vector<ReplicaStatus> replicas;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Brings the service to `spec`: creates what is missing, rewrites configs
  // that differ (hot-reloading where the component allows it), starts what is
  // stopped. Blocks until the endpoint answers or a bounded timeout passes, then
  // returns the resulting status. Throws byoc::Error only for faults of the
  // runtime itself (disk, exec), never for a slow process.
  virtual ServiceStatus apply(const ServiceSpec& spec) = 0;

  // Stops the service's processes in order (endpoint first, then replicas) and
  // deletes its files, and whatever it alone used (e.g. ZooKeeper, after the
  // last replicated service). Idempotent: removing an unknown service is a no-op.
  virtual void remove(const std::string& service) = 0;

  // The status of every service this runtime has on disk.
  virtual std::vector<ServiceStatus> observe() = 0;

  // Names of services present on disk (so the agent can remove ones that are
  // no longer desired after a restart).
  virtual std::vector<std::string> services() = 0;

  // Restarts processes that died (with backoff), reaps children. Called
  // periodically (about every 200 ms) by the agent.
  virtual void supervise() = 0;

  // Stops every process of every service in order (endpoints, replicas, then
  // what they share such as ZooKeeper), bounded in time; keeps the files so a
  // later apply() brings them back with their data.
  virtual void stop_all() = 0;
};

}  // namespace byoc::agent
