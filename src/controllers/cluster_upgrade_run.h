// Running a Kubernetes upgrade (kind eks) from the upgrade controller
// without holding a controller thread for the days it takes: one reconcile
// runs the upgrader (plan/upgrade/upgrader.h) until it would wait, then
// returns when to come back.
//
// - SuspendingTimeline: the upgrader's Timeline on the controller's clock,
//   whose wait_until(t) for a t ahead throws Suspend{t} instead of sleeping:
//   Upgrader::run() unwinds, the controller requeues at t, and the next
//   reconcile makes a fresh upgrader on the same journal, which resumes — the
//   path the simulator's crash tests prove (a suspend is a crash at a wait).
// - StoreUpgradeJournal: the upgrader's record in the upgrade itself
//   (Upgrade::cluster.journal), each save() its own transaction, committed
//   before save() returns, so the step it records is never sent while the
//   record saying so is uncommitted. A save finds the upgrade no longer
//   running (paused, cancelled) and throws ClusterUpgradeStopped instead:
//   the upgrader stops before its next mutating call.
//
// Not thread-safe; the controller's runner leases one environment's key to
// one reconcile at a time, so one upgrader runs per upgrade.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cloud/driver.h"
#include "model/objects.h"
#include "model/upgrades.h"
#include "plan/upgrade/journal.h"
#include "plan/upgrade/timeline.h"
#include "store/store.h"

namespace byoc::controllers {

// Out of SuspendingTimeline::wait_until: come back at `until`. Not a
// std::exception, so no handler of errors swallows it.
struct Suspend {
  plan::Instant until;
};

class SuspendingTimeline final : public plan::upgrade::Timeline {
 public:
  explicit SuspendingTimeline(const Clock& clock) : clock_(clock) {}
  plan::Instant now() const override;
  // Returns at once for t ≤ now; throws Suspend{t} otherwise.
  void wait_until(plan::Instant t) override;

 private:
  const Clock& clock_;
};

// Out of StoreUpgradeJournal::save: the upgrade is not running any more.
struct ClusterUpgradeStopped {
  std::string state;
};

class StoreUpgradeJournal final : public plan::upgrade::UpgradeJournal {
 public:
  StoreUpgradeJournal(store::Store& store, std::string upgrade_id) : store_(store), id_(std::move(upgrade_id)) {}
  std::optional<nlohmann::json> load() const override;
  void save(const nlohmann::json& record) override;

 private:
  store::Store& store_;
  std::string id_;
};

// The upgrader's eviction timeout here (no version record carries one).
inline constexpr std::chrono::minutes kClusterEvictionTimeout{60};

// One reconcile's share of a running eks upgrade: the upgrader over
// `clients`, from its journal, until it waits, ends or is stopped; then the
// upgrade's progress (and outcome: succeeded when everything is at the
// target, failed with its failed node groups and quarantined nodes when not)
// stored. Does nothing before the upgrade's resume_at. Returns when to look
// again (Unix seconds; 0: not for this upgrade's sake). Errors of the clients
// propagate (the runner retries), after the progress so far is stored.
int64_t run_cluster_upgrade(store::Store& store, const Clock& clock, const model::Environment& environment,
                            const std::vector<model::Service>& services, const model::Upgrade& upgrade,
                            cloud::ClusterUpgradeClients& clients);

}  // namespace byoc::controllers
