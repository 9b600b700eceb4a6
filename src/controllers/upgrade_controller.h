// Drives upgrades, one environment at a time (keys "upgrades/<env id>"):
// reads the environment, its services, the published ClickHouse versions
// and its open upgrades, asks plan_upgrades() (upgrade_planner.h) what to do
// now, and stores the plan — upgrades, services and a new revision for the
// agent — in one transaction. Looks again at the plan's next deadline (a
// window opening or closing, a channel's day, a deferral's end), or within
// kUpgradeRecheck. Level-triggered: a repeated reconcile changes nothing twice.
//
// Upgrades are opened when a version is published (every environment with
// services is queued) or a service is created; from then on the runner's
// resync looks at environments with open upgrades only.
#pragma once

#include <chrono>

#include "base/clock.h"
#include "controllers/reconciler.h"
#include "store/store.h"

namespace byoc::controllers {

inline constexpr std::chrono::minutes kUpgradeRecheck{10};

class UpgradeController final : public Reconciler {
 public:
  UpgradeController(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  ReconcileResult reconcile(const std::string& environment_id) override;

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace byoc::controllers
