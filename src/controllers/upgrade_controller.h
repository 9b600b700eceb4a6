// Drives upgrades, one environment at a time (keys "upgrades/<env id>"):
// reads the environment, its services, the published versions and its
// upgrades, asks plan_upgrades() (upgrade_planner.h) what to do now, and
// stores the plan — upgrades, services and a new revision for the agent — in
// one transaction. Looks again at the plan's next deadline (a window opening
// or closing, a channel's day, a deferral's end), or within kUpgradeRecheck.
// Level-triggered: a repeated reconcile changes nothing twice.
//
// Once that transaction has committed, a running Kubernetes upgrade (kind
// eks) of the environment's cluster takes its next steps through the cloud
// driver's cluster_upgrade_clients() (cluster_upgrade_run.h): the upgrader
// runs until it would wait, each step recorded in its own transaction
// before it acts, and the controller comes back when the wait ends.
//
// Upgrades are opened when a version is published (every environment with
// services is queued) or a service is created; from then on the runner's
// resync looks at environments with open upgrades only.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "base/clock.h"
#include "cloud/driver.h"
#include "controllers/reconciler.h"
#include "store/store.h"

namespace byoc::controllers {

inline constexpr std::chrono::minutes kUpgradeRecheck{10};

class UpgradeController final : public Reconciler {
 public:
  // `drivers` by cloud name: those giving cluster_upgrade_clients() run Kubernetes upgrades.
  UpgradeController(store::Store& store, const Clock& clock, std::map<std::string, cloud::CloudDriver*> drivers = {})
      : store_(store), clock_(clock), drivers_(std::move(drivers)) {}
  ReconcileResult reconcile(const std::string& environment_id) override;

 private:
  store::Store& store_;
  const Clock& clock_;
  std::map<std::string, cloud::CloudDriver*> drivers_;
};

}  // namespace byoc::controllers
