#include "controllers/upgrade_planner.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "model/maintenance.h"
#include "model/protocol.h"
#include "plan/maintenance_window.h"

namespace byoc::controllers {

namespace {

constexpr int64_t kDay = 24 * 3600;
const int64_t kStep = std::chrono::duration_cast<std::chrono::seconds>(kReplicaStepEstimate).count();

plan::Instant instant(int64_t t) { return plan::Instant{std::chrono::seconds{t}}; }
int64_t seconds(plan::Instant t) { return t.time_since_epoch().count(); }

const model::MaintenancePolicy& policy_of(const model::Service& s, const model::Environment& e) {
  return s.maintenance ? *s.maintenance : e.maintenance;
}

// Where the service's window stands now: whether a replica step may start,
// until when, and when to look again.
struct WindowNow {
  bool open = false;
  int64_t until = 0;      // the window's close (0: beyond the horizon)
  int64_t next_look = 0;  // its close, or the next opening
};

WindowNow window_now(const plan::MaintenanceWindow& w, int64_t now) {
  plan::WindowState s = plan::window_at(w, instant(now));
  WindowNow out;
  if (plan::drain_fits(s, instant(now), std::chrono::seconds{kStep})) {
    out.open = true;
    out.until = s.closes_at ? seconds(*s.closes_at) : 0;
    out.next_look = out.until;
    return out;
  }
  // Closed, or too little of it left: the next window's opening (a closing
  // window's successor opens after its close, which window_at answers then).
  if (s.inside) out.next_look = s.closes_at ? seconds(*s.closes_at) : 0;
  else if (s.opens_at) out.next_look = seconds(*s.opens_at);
  return out;
}

void look_at(UpgradePlan& plan, int64_t t) {
  if (t > 0 && (plan.next_look == 0 || t < plan.next_look)) plan.next_look = t;
}

int64_t published_at(const std::vector<model::PublishedVersion>& versions, const std::string& name) {
  for (const auto& v : versions)
    if (v.name == name) return v.published_at;
  return std::numeric_limits<int64_t>::min();  // never published: older than any that was
}

}  // namespace

UpgradeWait upgrade_wait(const model::Upgrade& u, const model::Environment& env, const model::Service& svc,
                         int64_t now) {
  if (env.agent_protocol < model::kRolloutProtocolVersion) return {"agent", 0};
  if (!u.started && now < u.available_at) return {"channel", u.available_at};
  if (now < u.deferred_until) return {"deferral", u.deferred_until};
  if (svc.state != model::kReady) return {"service", 0};
  const model::MaintenancePolicy& policy = policy_of(svc, env);
  if (!policy.window) return {u.started ? "" : "start", 0};
  WindowNow w = window_now(*policy.window, now);
  if (!w.open) return {"window", w.next_look};
  return {"", now};
}

int64_t earliest_start(const model::Upgrade& u, const model::Environment& env, const model::Service& svc,
                       int64_t now) {
  if (env.agent_protocol < model::kRolloutProtocolVersion) return 0;
  int64_t t = std::max({now, u.started ? now : u.available_at, u.deferred_until});
  const model::MaintenancePolicy& policy = policy_of(svc, env);
  if (!policy.window) return u.started ? t : 0;
  WindowNow w = window_now(*policy.window, t);
  if (w.open) return t;
  // The window at `t` is closed or closing: the next opening after it.
  if (w.next_look && !plan::window_at(*policy.window, instant(t)).inside) return w.next_look;
  if (w.next_look) {
    plan::WindowState next = plan::window_at(*policy.window, instant(w.next_look));
    return next.opens_at ? seconds(*next.opens_at) : 0;
  }
  return 0;
}

UpgradePlan plan_upgrades(const UpgradeWorld& world, const std::function<std::string()>& new_upgrade_id) {
  UpgradePlan plan;
  const model::Environment& env = world.environment;
  const int64_t now = world.now;
  std::map<std::string, model::Upgrade> open;  // by service: at most one each
  std::set<std::pair<std::string, std::string>> failed;  // (service, target)
  for (const auto& u : world.upgrades) {
    if (u.open()) open[u.service_name] = u;
    if (u.state == model::kUpgradeFailed) failed.insert({u.service_name, u.to_version});
  }
  const model::PublishedVersion* newest = world.versions.empty() ? nullptr : &world.versions.back();

  for (model::Service svc : world.services) {
    if (svc.state == model::kDeleting) continue;
    bool service_changed = false;
    auto it = open.find(svc.name);
    std::optional<model::Upgrade> u;
    if (it != open.end()) u = it->second;
    const model::MaintenancePolicy& policy = policy_of(svc, env);

    // A newer target: open an upgrade, superseding one that has not begun.
    bool newer = newest && newest->name != svc.clickhouse_version && !failed.count({svc.name, newest->name}) &&
                 newest->published_at > published_at(world.versions, svc.clickhouse_version) &&
                 (!u || (u->to_version != newest->name &&
                         newest->published_at > published_at(world.versions, u->to_version)));
    bool begun = u && (u->state == model::kUpgradeRunning || (svc.rollout && svc.rollout->id == u->id));
    if (newer && !begun) {
      if (u) {
        u->state = model::kUpgradeSuperseded;
        u->waiting_for = "";
        u->finished_at = u->updated_at = now;
        plan.upgrades.push_back(*u);
      }
      model::Upgrade fresh;
      fresh.id = new_upgrade_id();
      fresh.environment_id = env.id;
      fresh.organization = env.organization;
      fresh.service_name = svc.name;
      fresh.from_version = svc.clickhouse_version;
      fresh.to_version = newest->name;
      fresh.available_at = newest->published_at + model::channel_delay_days(policy.channel) * kDay;
      fresh.created_at = fresh.updated_at = now;
      u = fresh;
    }
    if (!u) continue;
    model::Upgrade before = *u;
    if (newer && !begun) before = model::Upgrade{};  // a new one is always put

    if (u->state == model::kUpgradePending) {
      UpgradeWait wait = upgrade_wait(*u, env, svc, now);
      u->waiting_for = wait.waiting_for;
      look_at(plan, wait.not_before > now ? wait.not_before : 0);
      if (wait.waiting_for.empty()) {
        WindowNow w = policy.window ? window_now(*policy.window, now) : WindowNow{true, 0, 0};
        u->state = model::kUpgradeRunning;
        u->running_until = w.until;
        look_at(plan, w.next_look);
        svc.clickhouse_version = u->to_version;
        svc.rollout = model::RolloutRequest{u->id, 1, w.until};
        svc.rollout_status.reset();
        service_changed = true;
      }
    } else if (u->state == model::kUpgradeRunning) {
      const model::ReportedRollout* report =
          svc.rollout_status && svc.rollout_status->id == u->id ? &*svc.rollout_status : nullptr;
      if (report) {
        u->replicas_done = report->replicas_done;
        u->replicas_total = report->replicas_total;
      }
      if (report && report->state == "failed") {
        u->state = model::kUpgradeFailed;
        u->failed_shard = report->failed_shard;
        u->failed_replica = report->failed_replica;
        u->failed_check = report->failed_check;
        u->finished_at = now;
        // The agent put the failed replica back: every replica runs the old version.
        svc.clickhouse_version = u->from_version;
        svc.rollout.reset();
        service_changed = true;
      } else if (report && report->state == "done" && svc.state == model::kReady &&
                 svc.clickhouse_version == u->to_version) {
        u->state = model::kUpgradeSucceeded;
        u->finished_at = now;
        svc.rollout.reset();
        service_changed = true;
      } else if (policy.window) {
        // Past the close the agent waits; the next window gets the next close.
        WindowNow w = window_now(*policy.window, now);
        u->waiting_for = w.open ? "" : "window";
        if (w.open && svc.rollout && svc.rollout->id == u->id && svc.rollout->not_after != w.until &&
            svc.rollout->not_after != 0 && svc.rollout->not_after <= now) {
          svc.rollout->not_after = w.until;
          u->running_until = w.until;
          service_changed = true;
        }
        look_at(plan, w.next_look);
      }
    }
    if (u->state != before.state || u->waiting_for != before.waiting_for || u->replicas_done != before.replicas_done ||
        u->replicas_total != before.replicas_total || u->running_until != before.running_until ||
        u->id != before.id) {
      u->updated_at = now;
      plan.upgrades.push_back(*u);
    }
    if (service_changed) {
      svc.updated_at = now;
      plan.services.push_back(svc);
      plan.raise_revision = true;
    }
  }
  return plan;
}

}  // namespace byoc::controllers
