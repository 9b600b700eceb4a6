#include "controllers/cluster_upgrade_run.h"

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "plan/upgrade/upgrader.h"

namespace byoc::controllers {

namespace {

using plan::upgrade::UpgradeEvent;
using plan::upgrade::UpgradeOutcome;

int64_t unix_of(plan::Instant t) { return t.time_since_epoch().count(); }

// Longer than the upgrader's poll: nothing is in flight, it waits for a window (or its deadline).
constexpr int64_t kLongWait = 2 * 30;

// The phase an action belongs to; nullptr for those of none (resume, throttled).
const char* phase_of(const std::string& action) {
  if (action == "update_control_plane") return "control_plane";
  if (action == "update_addon") return "addons";
  if (action == "done") return "done";
  for (const char* a : {"create_node_group", "node_group_failed", "give_up_node_group", "node_ready", "taint",
                        "cordon", "evict", "quarantine", "keep_node_group", "delete_node_group"})
    if (action == a) return "node_groups";
  return nullptr;
}

void add_events(model::ClusterUpgradeProgress& c, const std::vector<UpgradeEvent>& events) {
  for (const UpgradeEvent& e : events) {
    if (e.action == "resume") continue;  // one per reconcile: not the upgrade's doing
    ++c.events;
    c.last_event = e.action;
    c.last_event_at = unix_of(e.time);
    if (const char* phase = phase_of(e.action)) c.phase = phase;
  }
}

// Stores what this reconcile's run saw and, if it ended, its outcome. The
// upgrade is read afresh: the journal saves and a pause may have changed it.
void store_progress(store::Store& store, const Clock& clock, const std::string& id,
                    const std::vector<UpgradeEvent>& events, int64_t resume_at, const UpgradeOutcome* outcome) {
  const int64_t now = clock.unix_seconds();
  store.transact([&](store::Transaction& tx) {
    auto u = tx.upgrades().by_id(id);
    if (!u) return;
    const model::Upgrade before = *u;
    add_events(u->cluster, events);
    if (u->state == model::kUpgradeRunning) {
      u->cluster.resume_at = resume_at;
      u->waiting_for = resume_at - now > kLongWait ? "window" : "";
      if (outcome) {
        u->cluster.failed_node_groups = outcome->failed_node_groups;
        u->cluster.quarantined = outcome->quarantined;
        if (outcome->done) u->cluster.phase = "done";
        bool clean = outcome->done && outcome->failed_node_groups.empty() && outcome->quarantined.empty();
        u->state = clean ? model::kUpgradeSucceeded : model::kUpgradeFailed;
        u->waiting_for = "";
        u->cluster.resume_at = 0;
        u->finished_at = now;
      }
    }
    if (*u != before) {
      u->updated_at = now;
      tx.upgrades().put(*u);
    }
  });
}

}  // namespace

plan::Instant SuspendingTimeline::now() const { return std::chrono::floor<std::chrono::seconds>(clock_.system_time()); }

void SuspendingTimeline::wait_until(plan::Instant t) {
  if (t > now()) throw Suspend{t};
}

std::optional<nlohmann::json> StoreUpgradeJournal::load() const {
  std::string text;
  store_.read([&](store::Transaction& tx) {
    auto u = tx.upgrades().by_id(id_);
    text = u ? u->cluster.journal : "";
  });
  if (text.empty()) return std::nullopt;
  return nlohmann::json::parse(text);
}

void StoreUpgradeJournal::save(const nlohmann::json& record) {
  const std::string text = record.dump();
  std::string stopped;
  store_.transact([&](store::Transaction& tx) {
    stopped.clear();
    auto u = tx.upgrades().by_id(id_);
    if (!u) throw Error::NotFound("upgrade " + id_ + " is gone", "id");
    if (u->state != model::kUpgradeRunning) {
      stopped = u->state;
      return;
    }
    u->cluster.journal = text;
    tx.upgrades().put(*u);
  });
  // Committed (or refused): only now may the step it records act.
  if (!stopped.empty()) throw ClusterUpgradeStopped{stopped};
}

int64_t run_cluster_upgrade(store::Store& store, const Clock& clock, const model::Environment& env,
                            const std::vector<model::Service>& services, const model::Upgrade& upgrade,
                            cloud::ClusterUpgradeClients& clients) {
  if (upgrade.cluster.resume_at > clock.unix_seconds()) return upgrade.cluster.resume_at;
  plan::upgrade::UpgradeTarget target;
  target.run_id = upgrade.id;  // the idempotency tokens' prefix: the same on every reconcile
  target.target_version = upgrade.to_version;
  // Addons keep their versions: no published version names theirs yet.
  for (const auto& svc : services) {
    if (svc.state == model::kDeleting) continue;
    const model::MaintenancePolicy& policy = svc.maintenance ? *svc.maintenance : env.maintenance;
    if (policy.window) target.windows.emplace(svc.name, *policy.window);
  }
  target.eviction_timeout = kClusterEvictionTimeout;
  target.deadline = plan::Instant{std::chrono::seconds{upgrade.cluster.deadline}};

  SuspendingTimeline timeline(clock);
  StoreUpgradeJournal journal(store, upgrade.id);
  std::vector<UpgradeEvent> events;
  int64_t resume_at = 0;
  try {
    plan::upgrade::Upgrader upgrader(target, clients.eks(), clients.kube(), timeline, journal, events);
    UpgradeOutcome outcome = upgrader.run();
    store_progress(store, clock, upgrade.id, events, 0, &outcome);
    spdlog::info("environment {}: Kubernetes upgrade {} to {} ended: {} ({} node groups failed, {} nodes quarantined)",
                 env.id, upgrade.id, upgrade.to_version, outcome.done ? "done" : "gave up",
                 outcome.failed_node_groups.size(), outcome.quarantined.size());
    return 0;
  } catch (const Suspend& s) {
    resume_at = unix_of(s.until);
  } catch (const ClusterUpgradeStopped& s) {
    spdlog::info("environment {}: Kubernetes upgrade {} stopped: it is {}", env.id, upgrade.id, s.state);
  } catch (...) {
    store_progress(store, clock, upgrade.id, events, 0, nullptr);
    throw;
  }
  store_progress(store, clock, upgrade.id, events, resume_at, nullptr);
  return resume_at;
}

}  // namespace byoc::controllers
