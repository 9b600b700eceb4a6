#include "controllers/cluster_upgrade_planner.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "cloud/traits.h"
#include "model/maintenance.h"

namespace byoc::controllers {

namespace {

constexpr int64_t kDay = 24 * 3600;

// "1.31" → 31; -1 for anything else.
int minor_of(const std::string& version) {
  if (version.rfind("1.", 0) != 0) return -1;
  int minor = -1;
  auto [end, error] = std::from_chars(version.data() + 2, version.data() + version.size(), minor);
  return error == std::errc() && end == version.data() + version.size() ? minor : -1;
}

void cancel(model::Upgrade& u, int64_t now) {
  u.state = model::kUpgradeCancelled;
  u.waiting_for = "";
  u.finished_at = u.updated_at = now;
}

}  // namespace

std::string cluster_version(const model::Environment& env, const std::vector<model::Upgrade>& upgrades) {
  const cloud::CloudTraits* traits = cloud::find_cloud(env.cloud);
  if (!traits || traits->kubernetes_version.empty()) return "";
  const model::Upgrade* last = nullptr;
  for (const auto& u : upgrades)
    if (u.kind == model::kVersionEks && u.state == model::kUpgradeSucceeded &&
        (!last || u.finished_at > last->finished_at))
      last = &u;
  return last ? last->to_version : traits->kubernetes_version;
}

bool cluster_upgrade_begun(const model::Upgrade& u) {
  return u.state == model::kUpgradeRunning || !u.cluster.journal.empty();
}

UpgradeWait cluster_upgrade_wait(const model::Upgrade& u, const model::Environment& env, int64_t now) {
  if (!u.started && now < u.available_at) return {"channel", u.available_at};
  if (now < u.deferred_until) return {"deferral", u.deferred_until};
  if (env.state != model::kReady) return {"environment", 0};
  if (!env.maintenance.window && !u.started) return {"start", 0};
  return {"", now};
}

int64_t cluster_earliest_start(const model::Upgrade& u, const model::Environment& env, int64_t now) {
  if (env.state != model::kReady || (!env.maintenance.window && !u.started)) return 0;
  return std::max({now, u.started ? now : u.available_at, u.deferred_until});
}

void plan_cluster_upgrade(const UpgradeWorld& world, const std::function<std::string()>& new_upgrade_id,
                          UpgradePlan& plan) {
  const model::Environment& env = world.environment;
  const int64_t now = world.now;
  std::optional<model::Upgrade> u;
  std::set<std::string> failed;
  for (const auto& x : world.upgrades) {
    if (x.kind != model::kVersionEks) continue;
    if (x.open()) u = x;
    if (x.state == model::kUpgradeFailed) failed.insert(x.to_version);
  }
  const std::string running = cluster_version(env, world.upgrades);
  if (env.state == model::kDeleting || running.empty()) {
    if (u) {
      cancel(*u, now);
      plan.upgrades.push_back(*u);
    }
    return;
  }
  const std::optional<model::Upgrade> before = u;
  const model::PublishedVersion* newest = world.cluster_versions.empty() ? nullptr : &world.cluster_versions.back();
  const auto& versions = world.cluster_versions;
  bool newer = newest && minor_of(newest->name) > minor_of(running) && !failed.count(newest->name) &&
               newest->published_at > version_published_at(versions, running) &&
               (!u || (u->to_version != newest->name && minor_of(newest->name) > minor_of(u->to_version) &&
                       newest->published_at > version_published_at(versions, u->to_version)));
  bool fresh_one = false;
  if (newer && !(u && cluster_upgrade_begun(*u))) {
    model::Upgrade fresh;
    fresh.id = new_upgrade_id();
    fresh.environment_id = env.id;
    fresh.organization = env.organization;
    fresh.kind = model::kVersionEks;
    fresh.from_version = running;
    fresh.to_version = newest->name;
    fresh.created_at = fresh.updated_at = now;
    if (u) supersede(*u, fresh, now, plan);
    u = fresh;
    fresh_one = true;
  }
  if (!u) return;
  if (u->state == model::kUpgradePending || (u->state == model::kUpgradePaused && !cluster_upgrade_begun(*u))) {
    u->available_at = version_published_at(versions, u->to_version) +
                      model::channel_delay_days(env.maintenance.channel) * kDay;
  }
  if (u->state == model::kUpgradePending) {
    UpgradeWait wait = cluster_upgrade_wait(*u, env, now);
    u->waiting_for = wait.waiting_for;
    plan.look_at(wait.not_before > now ? wait.not_before : 0);
    if (wait.waiting_for.empty()) {
      u->state = model::kUpgradeRunning;
      u->cluster.deadline = now + std::chrono::duration_cast<std::chrono::seconds>(kClusterUpgradeMaxRun).count();
      u->cluster.resume_at = 0;
    }
  }
  if (fresh_one || *u != *before) {
    u->updated_at = now;
    plan.upgrades.push_back(*u);
  }
  plan.any_open = plan.any_open || u->open();
}

}  // namespace byoc::controllers
