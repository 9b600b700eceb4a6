#include "controllers/upgrade_controller.h"

#include <algorithm>

#include "controllers/cluster_upgrade_run.h"
#include "controllers/upgrade_planner.h"
#include "store/desired_state.h"

namespace byoc::controllers {

ReconcileResult UpgradeController::reconcile(const std::string& environment_id) {
  int64_t next_look = 0;
  bool any_open = false;
  std::optional<model::Upgrade> cluster_run;  // a running eks upgrade, as committed
  model::Environment env_now;
  std::vector<model::Service> services_now;
  store_.transact([&](store::Transaction& tx) {
    next_look = 0;  // this attempt's (a transaction may run again)
    any_open = false;
    cluster_run.reset();
    int64_t now = clock_.unix_seconds();
    auto env = tx.environments().by_id(environment_id);
    if (!env) {
      // The environment went: so do its upgrades.
      for (auto u : tx.upgrades().list(environment_id, /*open_only=*/true)) {
        u.state = model::kUpgradeCancelled;
        u.waiting_for = "";
        u.finished_at = u.updated_at = now;
        tx.upgrades().put(u);
      }
      return;
    }
    UpgradeWorld world{*env, tx.services().list(env->id), tx.versions().list(model::kVersionClickHouse),
                       tx.versions().list(model::kVersionEks), tx.upgrades().list(env->id, /*open_only=*/false), now};
    UpgradePlan plan = plan_upgrades(world, [] { return model::new_id("upg-"); });
    for (const auto& u : plan.upgrades) tx.upgrades().put(u);
    for (const auto& s : plan.services) tx.services().put(s);
    if (plan.raise_revision) store::raise_revision(tx, *env, world.now);
    next_look = plan.next_look;
    for (const auto& u : world.upgrades)
      if (u.kind == model::kVersionEks && u.state == model::kUpgradeRunning) cluster_run = u;
    for (const auto& u : plan.upgrades)
      if (u.kind == model::kVersionEks) cluster_run = u.state == model::kUpgradeRunning ? std::optional(u) : std::nullopt;
    env_now = *env;
    services_now = world.services;
    // A revert in flight belongs to no open upgrade but still wants its deadline kept.
    // So does a resize waiting for its window.
    any_open = plan.any_open || std::any_of(world.services.begin(), world.services.end(), [](const model::Service& s) {
                 return s.rollout.has_value() || s.pending_resize.has_value();
               });
  });
  // The plan is committed: the cluster's upgrade may act now.
  int64_t resume_at = 0;
  auto driver = drivers_.find(env_now.cloud);
  if (cluster_run && cluster_run->cluster.resume_at > clock_.unix_seconds()) {
    resume_at = cluster_run->cluster.resume_at;  // still waiting: no clients made, no call
  } else if (cluster_run && driver != drivers_.end() && driver->second) {
    if (auto clients = driver->second->cluster_upgrade_clients(env_now))
      resume_at = run_cluster_upgrade(store_, clock_, env_now, services_now, *cluster_run, *clients);
  }
  // Nothing open: the next publication, service or policy change queues it again.
  if (!any_open) return {};
  auto recheck = std::chrono::duration_cast<std::chrono::milliseconds>(kUpgradeRecheck);
  // The upgrader's wait ends at resume_at exactly (it runs at resume_at, not after it).
  if (resume_at > 0 && (next_look == 0 || resume_at <= next_look)) {
    auto wait = std::chrono::milliseconds(std::max<int64_t>(resume_at * 1000 - clock_.unix_millis(), 0));
    return {std::min(wait, recheck)};
  }
  if (next_look == 0) return {recheck};
  // A second past the deadline, so that the look finds it due.
  int64_t wait_ms = (std::max<int64_t>(next_look - clock_.unix_seconds(), 0) + 1) * 1000;
  return {std::min(std::chrono::milliseconds(wait_ms), recheck)};
}

}  // namespace byoc::controllers
