// Agent: the data plane's agent loop for one joined environment. It serves
// from the desired state cached in its state dir at once (the data plane
// doesn't wait for the management plane), then long-polls POST
// /v1/agent/sync: its status and usage intervals go up, newer desired states
// come down, are cached and applied through the DesiredStateApplier. While
// the management plane is unreachable it keeps serving and retries with
// backoff and jitter, each failed call moving on to the next server of the
// plane (server_list.h); on return the same un-acknowledged usage intervals are
// sent again (the server keeps each seq once) and an unchanged desired state
// is not applied again.
//
// The runtime's apply() only issues work (runtime.h): status comes from
// observe(). While a service converges (PROVISIONING) the agent observes on
// every supervision round, and whenever what it observes differs from what
// its last report said it ends the held long-poll early and reports again —
// so the management plane learns READY (and settles the operation waiting
// for it) within a round, not at the next ~30 s answer. Settled services are
// observed on the usage-sampling period, so a crash is reported as promptly.
//
// Threading: run() blocks on the calling thread (the sync loop) and runs the
// runtime's supervision and usage sampling on a second thread it owns; it
// returns after `stop` becomes true, with every service stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/applier.h"
#include "agent/audit_checkpoints.h"
#include "agent/join.h"
#include "agent/sync_client.h"
#include "agent/runtime.h"
#include "agent/support_access.h"
#include "agent/support_gateway.h"
#include "agent/server_list.h"
#include "agent/usage.h"
#include "base/clock.h"
#include "model/protocol.h"

namespace byoc::agent {

struct AgentConfig {
  std::filesystem::path state_dir;  // absolute
  // The management plane's servers it was configured with (https://HOST:PORT,
  // no trailing '/'); the plane's answers add the others (server_list.h).
  std::vector<std::string> server_urls;
  EnvironmentScope scope;           // where cluster hosts may live
  std::string environment_ca_pem;   // public certificate, reported in every status
  // Where the support gateways reach the agent, and the Kubernetes API they
  // front (the runtime's: runtimes/registry.h RuntimeChoice).
  GatewayListening gateway;
  std::chrono::milliseconds usage_sample_period{2000};
  std::chrono::milliseconds supervise_period{200};
  // While a service converges (PROVISIONING), supervision — which drives a
  // start's next step and notices READY — comes this often: each step of a
  // cold start would otherwise wait up to a whole supervise_period.
  std::chrono::milliseconds converging_period{20};
};

class Agent {
 public:
  Agent(AgentConfig config, AgentIdentity identity, std::unique_ptr<Runtime> runtime, const Clock& clock,
        const std::atomic<bool>& stop);

  void run();

 private:
  void supervise_loop();
  // What the runtime observes now, against what the last report said: ends
  // a held sync when it differs.
  void watch(const std::vector<ServiceStatus>& observed);
  void sync_loop();
  void accept(const model::DesiredState& desired);
  std::vector<ServiceStatus> observe();
  model::SyncRequest build_report(int64_t seq);
  // Renews the client certificate once it is due (and switches `client` to it).
  void renew_if_due(std::optional<SyncClient>& client);

  AgentConfig config_;
  AgentIdentity identity_;
  std::unique_ptr<Runtime> runtime_;
  const std::atomic<bool>& stop_;
  const Clock& clock_;
  MonotonicTime next_renewal_attempt_{};  // sync thread only
  ServerList servers_;                     // sync thread only
  DesiredStateApplier applier_;
  SupportAccess support_;
  SupportGatewayKeeper gateway_;
  // Brings the runtime's support gateways to what gateway_ says now.
  void update_gateway();
  AuditCheckpoints audit_;  // sync thread only
  UsageMeter meter_;
  UsageLedger ledger_;                          // sync thread only
  std::optional<model::DesiredState> desired_;  // sync thread only
  std::mutex observe_mutex_;                    // one runtime observe() at a time
  // Ends the sync in flight: set when the agent stops or the report is stale.
  std::atomic<bool> cancel_sync_{false};
  std::mutex reported_mutex_;               // guards reported_
  std::vector<ServiceStatus> reported_;     // the observation the last report was built from
  // A service was PROVISIONING when last observed: observe every round, not
  // only when usage is sampled.
  std::atomic<bool> converging_{true};
  std::atomic<MonotonicTime> converging_since_{MonotonicTime{}};
  MonotonicTime denials_woke_{};  // supervision thread only: when refusals last ended a held sync
  // Under reported_mutex_.
  void set_converging_locked(bool now_converging);
};

}  // namespace byoc::agent
