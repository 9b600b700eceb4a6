// Runtime: how an agent runs ClickHouse services inside its environment. The
// agent loop owns the desired state and drives the runtime the way
// Crossplane's managed reconciler drives an external client: apply() and
// remove() ask for a change and return once it is issued; observe() says what
// is really running. No call waits for a service to become healthy: the
// agent keeps observing (and reporting) until it converges. Every call is
// idempotent and safe to repeat after a crash of the agent (state lives on
// disk, or in whatever the runtime drives, never only in memory).
//
// Nothing here assumes child processes: a service is whatever the runtime
// makes of it (processes on this machine, a StatefulSet), and supervise() is
// the runtime's periodic chance to make progress on its own.
//
// Implementations: runtimes/local (real processes on this machine). A
// Kubernetes runtime is a new folder behind this same interface.
//
// Threading: one thread calls apply/remove/stop_all; supervise() and observe()
// may be called from another thread concurrently.
#pragma once

#include <memory>
#include <optional>
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
  bool operator==(const ReplicaStatus&) const = default;
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
  // "https://127.0.0.1:PORT": the service's support gateway (see
  // SupportGateway); empty when the runtime runs none for it.
  std::string support_gateway;
  // The progress of the rollout the spec requested (spec.rollout), while the
  // runtime remembers it; nullopt when none was requested (or the runtime
  // applies changes all at once and says so).
  std::optional<model::ReportedRollout> rollout;
  bool operator==(const ServiceStatus&) const = default;
};

// What every runtime reports of a rollout, the same way:
// - for a spec whose version its versions.json lacks (refused, nothing
//   touched): failed at its first step, check "version_unknown";
model::ReportedRollout unknown_version_rollout(const ServiceSpec& spec);
// - over the service's own state, the rollout's `state` (model::rollout_states())
//   with or without a step under way: rolling → PROVISIONING "rolling";
//   waiting with no step → PROVISIONING "rollout_waiting"; failed →
//   "rollout_failed", PROVISIONING until the failed step is undone and the
//   service is READY again. A FAILED service stays so (that is the news).
void report_rollout_state(const std::string& state, bool step_under_way, ServiceStatus& status);

// Troubleshooting access (docs/access.md): how every service's support
// gateway admits a vendor engineer. The gateway is HTTPS with client
// certificates from the environment's support CA (checked against its CRL),
// asks the agent about each request (its gateway check, an HTTP endpoint on
// loopback: agent/support_gateway_check.h) and forwards what it admits as
// the service's read-only, logged `support` ClickHouse user. Disabled: no
// gateway and no `support` user.
struct SupportGateway {
  bool enabled = false;
  std::string ca_pem;         // the support CA (public)
  std::string crl_pem;        // its current CRL (the agent refreshes it well before its next update)
  // HOST:PORT of the agent's gateway check ("127.0.0.1:PORT"); "" when the
  // agent listens on every address of its pod, where the runtime routes to
  // it itself (the kubernetes runtime: its Service byoc-agent).
  std::string check_address;
  // Sent with every check (nginx holds it in its 0600 config): other local
  // processes can reach the port but not pass for nginx.
  std::string check_key;
  bool operator==(const SupportGateway&) const = default;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Moves the service toward `spec` and returns once the work is issued:
  // what must be durable is recorded first (so a crash right after is
  // repaired by the same call repeated), then whatever is missing is created,
  // what differs is rewritten or reloaded, what is stopped is started. It
  // does not wait for any of it to become healthy; observe() tells.
  //
  // Returns the service's status as of the return (normally PROVISIONING,
  // "starting"; READY when nothing had to change). A spec the runtime can't
  // run (a changed topology, an unknown version, no room) is refused with
  // FAILED and an "unsupported_*" reason, and nothing is touched: what ran
  // before keeps running. Throws byoc::Error only for faults of the runtime
  // itself (disk, exec, its API), never because something is slow to start.
  //
  // `spec.rollout`, when present, asks for the change to be applied replica
  // by replica (see model::RolloutRequest); a runtime that can't do better
  // than all at once says so in its own header.
  virtual ServiceStatus apply(const ServiceSpec& spec) = 0;

  // Brings every service's support gateway to `gateway` (and every later
  // apply() renders it): a changed CRL or CA is in force once observe()
  // reports READY again, the same promise as for a changed spec. Called
  // before the first apply() and again with every report, changed or not:
  // idempotent, cheap when nothing is to be done, and the runtime's chance
  // to retry a service it could not bring to `gateway` the last time.
  virtual void set_support_gateway(const SupportGateway& gateway) = 0;

  // Stops the service in order (endpoint first, then replicas) and deletes
  // what it owns, and whatever it alone used (e.g. ZooKeeper, after the last
  // replicated service), bounded in time. Idempotent: removing an unknown
  // service is a no-op.
  virtual void remove(const std::string& service) = 0;

  // The status of every service this runtime has (on disk, or in what it
  // drives). Changes nothing. The agent relies on this promise: once apply(spec)
  // has returned, the service is READY only when `spec` is what serves — its
  // endpoint answers with `spec` in force (e.g. the new allowlist loaded) and
  // every replica answers. The management plane completes an operation on
  // that READY, so a runtime must never report the previous spec's health as
  // the new one's.
  virtual std::vector<ServiceStatus> observe() = 0;

  // Names of the services this runtime has (so the agent can remove ones
  // that are no longer desired after a restart).
  virtual std::vector<std::string> services() = 0;

  // Makes progress on issued work without being asked: restarts what died
  // (with backoff), starts what waited for something else (e.g. an endpoint
  // for its replicas), confirms reloads. Called periodically (about every
  // 200 ms) by the agent; returns promptly.
  virtual void supervise() = 0;

  // Stops every service in order (endpoints, replicas, then what they share
  // such as ZooKeeper), bounded in time; keeps their state so a later
  // apply() brings them back with their data.
  virtual void stop_all() = 0;
};

}  // namespace byoc::agent
