#include "controllers/upgrade_planner.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "base/error.h"
#include "controllers/cluster_upgrade_planner.h"
#include "model/maintenance.h"
#include "model/protocol.h"
#include "model/service_resize.h"
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
  plan::WindowState s;
  try {
    s = plan::window_at(w, instant(now));
  } catch (const Error&) {
    return {};  // a zone this server's tz database lacks: closed, until it has it
  }
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

// Pulls a deadline in to `now` (never out): what a rollout gets once its
// window has closed or gone. Never 0, which would mean no limit.
int64_t pulled_in(int64_t current, int64_t now) { return current == 0 || current > now ? now : current; }

struct RolloutDeadline {
  int64_t not_after = 0;
  int64_t next_look = 0;
  std::string waiting_for;  // "" | window | start
};

// The deadline a rollout should carry now under `policy`: inside a window
// with room for a step, the close less that room (so the last step ends by
// the close; 0 when the close lies beyond the horizon); otherwise pulled in.
// Without a window only a rollout someone started runs, without a limit.
RolloutDeadline rollout_deadline(const model::MaintenancePolicy& policy, bool started, int64_t current, int64_t now) {
  if (!policy.window) {
    if (started) return {0, 0, ""};
    return {pulled_in(current, now), 0, "start"};
  }
  WindowNow w = window_now(*policy.window, now);
  if (w.open) return {w.until ? w.until - kStep : 0, w.next_look, ""};
  return {pulled_in(current, now), w.next_look, "window"};
}

}  // namespace

void supersede(model::Upgrade& old, model::Upgrade& fresh, int64_t now, UpgradePlan& plan) {
  fresh.state = old.state;
  fresh.deferred_until = old.deferred_until;
  old.state = model::kUpgradeSuperseded;
  old.waiting_for = "";
  old.finished_at = old.updated_at = now;
  plan.upgrades.push_back(old);
}

int64_t version_published_at(const std::vector<model::PublishedVersion>& versions, const std::string& name) {
  for (const auto& v : versions)
    if (v.name == name) return v.published_at;
  return std::numeric_limits<int64_t>::min();  // never published: older than any that was
}

std::string revert_rollout_id(const std::string& upgrade_id) { return upgrade_id + "-revert"; }

std::string resize_rollout_id(int64_t requested_at) { return "resize-" + std::to_string(requested_at); }

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
    if (u.kind != model::kVersionClickHouse) continue;  // the cluster's: plan_cluster_upgrade
    if (u.open()) open[u.service_name] = u;
    if (u.state == model::kUpgradeFailed) failed.insert({u.service_name, u.to_version});
  }
  const model::PublishedVersion* newest = world.versions.empty() ? nullptr : &world.versions.back();

  // Upgrades of services that are gone (or going) end with them.
  for (auto& [name, u] : open) {
    auto svc = std::find_if(world.services.begin(), world.services.end(),
                            [&](const model::Service& s) { return s.name == name; });
    if (svc == world.services.end() || svc->state == model::kDeleting) {
      u.state = model::kUpgradeCancelled;
      u.waiting_for = "";
      u.finished_at = u.updated_at = now;
      plan.upgrades.push_back(u);
    }
  }

  for (model::Service svc : world.services) {
    if (svc.state == model::kDeleting) continue;
    const model::Service as_stored = svc;
    auto it = open.find(svc.name);
    std::optional<model::Upgrade> u;
    if (it != open.end()) u = it->second;
    const model::MaintenancePolicy& policy = policy_of(svc, env);

    // A newer target: open an upgrade, superseding one that has not begun
    // (its pause and deferral carry over: they were the customer's word).
    bool newer = newest && newest->name != svc.clickhouse_version && !failed.count({svc.name, newest->name}) &&
                 newest->published_at > version_published_at(world.versions, svc.clickhouse_version) &&
                 (!u || (u->to_version != newest->name &&
                         newest->published_at > version_published_at(world.versions, u->to_version)));
    bool begun = u && (u->state == model::kUpgradeRunning || (svc.rollout && svc.rollout->id == u->id));
    std::optional<model::Upgrade> before = u;
    if (newer && !begun) {
      model::Upgrade fresh;
      fresh.id = new_upgrade_id();
      fresh.environment_id = env.id;
      fresh.organization = env.organization;
      fresh.service_name = svc.name;
      fresh.from_version = svc.clickhouse_version;
      fresh.to_version = newest->name;
      fresh.created_at = fresh.updated_at = now;
      if (u) supersede(*u, fresh, now, plan);
      u = fresh;
      before.reset();  // a new one is always put
    }

    if (u && (u->state == model::kUpgradePending || u->state == model::kUpgradePaused)) {
      // The channel counts from the target's publication, as the policy says now.
      u->available_at = version_published_at(world.versions, u->to_version) + model::channel_delay_days(policy.channel) * kDay;
    }
    if (u && u->state == model::kUpgradePending) {
      UpgradeWait wait = upgrade_wait(*u, env, svc, now);
      u->waiting_for = wait.waiting_for;
      plan.look_at(wait.not_before > now ? wait.not_before : 0);
      if (wait.waiting_for.empty()) {
        u->state = model::kUpgradeRunning;
        svc.clickhouse_version = u->to_version;
        svc.rollout = model::RolloutRequest{u->id, 1, 0};
        svc.rollout_status.reset();
      }
    }
    if (u && u->state == model::kUpgradeRunning) {
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
        u->waiting_for = "";
        // Replicas already on the new version go back, paced like the
        // upgrade was: in the window, one at a time.
        svc.clickhouse_version = u->from_version;
        svc.rollout = model::RolloutRequest{revert_rollout_id(u->id), 1, svc.rollout ? svc.rollout->not_after : now};
        svc.rollout_status.reset();
      } else if (report && report->state == "done" && svc.state == model::kReady &&
                 svc.clickhouse_version == u->to_version) {
        u->state = model::kUpgradeSucceeded;
        u->finished_at = now;
        u->waiting_for = "";
        svc.rollout.reset();
      }
    }
    // A resize kept for the window is applied once the window has room for
    // a step (at once if the policy has lost its window since); the agent
    // rolls it under a rollout of its own unless an upgrade's carries it.
    if (svc.pending_resize) {
      bool due = !policy.window;
      if (policy.window) {
        WindowNow w = window_now(*policy.window, now);
        due = w.open;
        if (!due) plan.look_at(w.next_look);
      }
      if (due) {
        const model::ServiceResize resize = *svc.pending_resize;
        svc.pending_resize.reset();
        model::Service resized = svc;
        try {
          model::apply_resize(resized, resize, env);
        } catch (const Error&) {
          // No longer possible (the environment's instance types changed
          // since it was asked for): dropped, the service left as it is.
          resized = svc;
        }
        const bool moves = resized.cpu_millis != svc.cpu_millis || resized.memory_mib != svc.memory_mib ||
                           resized.replicas != svc.replicas;
        svc = resized;
        // A rollout that ended (or none) can't carry it: it gets its own.
        const bool rollout_ended = svc.rollout && svc.rollout_status && svc.rollout_status->id == svc.rollout->id &&
                                   (svc.rollout_status->state == "done" || svc.rollout_status->state == "failed");
        if (moves) {
          if (!svc.rollout || rollout_ended) {
            svc.rollout = model::RolloutRequest{resize_rollout_id(resize.requested_at), 1, 0};
            svc.rollout_status.reset();
          }
        }
      }
    }
    // Whatever rollout the service carries (an upgrade's, the revert of a
    // failed one, a resize's) gets the deadline its policy allows now: the
    // window's close less a step's room while it is open, pulled in to now
    // once it is not.
    const bool upgrades_rollout = u && svc.rollout && svc.rollout->id == u->id;
    if (svc.rollout && !(upgrades_rollout && u->state == model::kUpgradePaused)) {
      // An upgrade's rollout without a window runs once started; a revert
      // (its upgrade ended) goes back as the upgrade came, and a resize was
      // asked for: neither waits for a start.
      bool started = !upgrades_rollout || u->started;
      RolloutDeadline d = rollout_deadline(policy, started, svc.rollout->not_after, now);
      svc.rollout->not_after = d.not_after;
      plan.look_at(d.next_look);
      if (u && u->state == model::kUpgradeRunning) {
        u->running_until = d.not_after;
        u->waiting_for = d.waiting_for;
      }
      // A revert or a resize that ended (done, or failed) leaves nothing to ask for.
      if ((!u || u->id != svc.rollout->id) && svc.rollout_status && svc.rollout_status->id == svc.rollout->id &&
          (svc.rollout_status->state == "done" || svc.rollout_status->state == "failed"))
        svc.rollout.reset();
    }

    if (u && (!before || *u != *before)) {
      u->updated_at = now;
      plan.upgrades.push_back(*u);
    }
    if (svc != as_stored) {
      svc.updated_at = now;
      plan.services.push_back(svc);
      plan.raise_revision = true;
    }
  }
  plan_cluster_upgrade(world, new_upgrade_id, plan);
  for (const auto& u : plan.upgrades) plan.any_open = plan.any_open || u.open();
  for (const auto& [name, u] : open) {
    bool changed = std::any_of(plan.upgrades.begin(), plan.upgrades.end(), [&](const auto& x) { return x.id == u.id; });
    plan.any_open = plan.any_open || (!changed && u.open());
  }
  return plan;
}

}  // namespace byoc::controllers
