#include "controllers/upgrade_controller.h"

#include <algorithm>

#include "controllers/upgrade_planner.h"
#include "store/desired_state.h"

namespace byoc::controllers {

ReconcileResult UpgradeController::reconcile(const std::string& environment_id) {
  int64_t next_look = 0;
  bool any_open = false;
  store_.transact([&](store::Transaction& tx) {
    next_look = 0;  // this attempt's (a transaction may run again)
    any_open = false;
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
                       tx.upgrades().list(env->id, /*open_only=*/false), now};
    UpgradePlan plan = plan_upgrades(world, [] { return model::new_id("upg-"); });
    for (const auto& u : plan.upgrades) tx.upgrades().put(u);
    for (const auto& s : plan.services) tx.services().put(s);
    if (plan.raise_revision) store::raise_revision(tx, *env, world.now);
    next_look = plan.next_look;
    // A revert in flight belongs to no open upgrade but still wants its deadline kept.
    // So does a resize waiting for its window.
    any_open = plan.any_open || std::any_of(world.services.begin(), world.services.end(), [](const model::Service& s) {
                 return s.rollout.has_value() || s.pending_resize.has_value();
               });
  });
  // Nothing open: the next publication, service or policy change queues it again.
  if (!any_open) return {};
  auto recheck = std::chrono::duration_cast<std::chrono::milliseconds>(kUpgradeRecheck);
  if (next_look == 0) return {recheck};
  // A second past the deadline, so that the look finds it due.
  int64_t wait_ms = (std::max<int64_t>(next_look - clock_.unix_seconds(), 0) + 1) * 1000;
  return {std::min(std::chrono::milliseconds(wait_ms), recheck)};
}

}  // namespace byoc::controllers
