// The upgrade controller's decisions for an environment's Kubernetes cluster
// (upgrades of kind eks), pure: plan_upgrades() (upgrade_planner.h) asks
// plan_cluster_upgrade() for them. Which step of the cluster's upgrade runs
// next is the upgrader's (plan/upgrade/upgrader.h), run by the controller
// (cluster_upgrade_run.h); this decides only when it opens, starts and ends.
//
// Rules (docs/maintenance.md, docs/upgrades.md):
// - An environment whose cloud runs a cluster the plane upgrades (its traits
//   name a kubernetes_version) gets one upgrade of kind eks, service "",
//   to the newest published eks version when that is a newer minor than the
//   cluster runs and was published after it — unless an upgrade to it failed
//   already (a newer version is the retry). What the cluster runs is the
//   target of the environment's last succeeded eks upgrade, else the traits'
//   version (what its stack made it at). A newer version supersedes a pending
//   upgrade, or a paused one that has not begun; a begun one finishes first.
// - A pending one starts once its channel's day (the ENVIRONMENT's policy)
//   has come (or someone started it), its deferral is over and the
//   environment is READY (waiting_for: channel | deferral | environment). No
//   window is waited for to start: the control plane's update disturbs no
//   service, and the upgrader holds each ClickHouse pod until its service's
//   window opens. An environment whose policy has no window waits for
//   someone to start it (`start`), as a windowless service's upgrade does.
//   Starting fixes the run's deadline (kClusterUpgradeMaxRun).
// - Running and paused ones are left to the controller's run; they are
//   cancelled when the environment is being deleted.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "controllers/upgrade_planner.h"

namespace byoc::controllers {

// From its start, how long a Kubernetes upgrade waits for windows before it
// quarantines what still waits (docs/upgrades.md, max_run_days).
inline constexpr std::chrono::days kClusterUpgradeMaxRun{28};

// The Kubernetes version the environment's cluster runs, as far as the plane
// knows: the target of its newest succeeded eks upgrade, else its cloud's
// kubernetes_version ("" for clouds without a cluster the plane upgrades).
std::string cluster_version(const model::Environment& environment, const std::vector<model::Upgrade>& upgrades);

// Adds to `plan` what to do with the environment's eks upgrades now.
void plan_cluster_upgrade(const UpgradeWorld& world, const std::function<std::string()>& new_upgrade_id,
                          UpgradePlan& plan);

// What a pending eks upgrade waits for now ("" if nothing), as upgrade_wait.
UpgradeWait cluster_upgrade_wait(const model::Upgrade& upgrade, const model::Environment& environment, int64_t now);
// When a pending eks upgrade would start at the earliest if nothing changed
// (0: not known, the environment is not READY).
int64_t cluster_earliest_start(const model::Upgrade& upgrade, const model::Environment& environment, int64_t now);
// Whether its run has begun: the upgrader has saved its record (a paused one
// resumes running; a newer version does not supersede it).
bool cluster_upgrade_begun(const model::Upgrade& upgrade);

}  // namespace byoc::controllers
