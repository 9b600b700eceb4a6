// Versions (admins publish them) and upgrades (the upgrade controller opens
// them; customers and admins start, pause, resume and defer them; every role
// reads them). docs/maintenance.md has the rules.
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"
#include "cloud/traits.h"
#include "controllers/cluster_upgrade_planner.h"
#include "controllers/upgrade_planner.h"
#include "model/upgrades.h"
#include "model/validate.h"
#include "server/auth.h"
#include "server/routes.h"
#include "store/desired_state.h"

namespace byoc::server {
using nlohmann::json;

std::string upgrades_key(const std::string& environment_id) { return "upgrades/" + environment_id; }

namespace {

json upgrade_json(const model::Upgrade& u, const model::Environment& env, const model::Service* svc, int64_t now) {
  json out = model::to_json(u, env.name);
  int64_t start = 0;
  if (u.state == model::kUpgradePending && u.kind == model::kVersionEks)
    start = controllers::cluster_earliest_start(u, env, now);
  else if (u.state == model::kUpgradePending && svc)
    start = controllers::earliest_start(u, env, *svc, now);
  out["starts_at"] = start ? json(format_rfc3339(start)) : json(nullptr);
  return out;
}

const model::Service* service_named(const std::vector<model::Service>& services, const std::string& name) {
  for (const auto& s : services)
    if (s.name == name) return &s;
  return nullptr;
}

// One action on one upgrade of the environment: `act` checks the upgrade's
// state (409 otherwise) and changes it and, if it must, its service (nullptr
// for the cluster's upgrade, kind eks).
using UpgradeAction = std::function<void(model::Upgrade&, model::Service*, model::Environment&, int64_t now,
                                         const json& body)>;

HttpResponse act_on_upgrade(ServerContext& ctx, HttpRequest& req, const UpgradeAction& act) {
  json out;
  std::string env_id;
  transact_as_caller(ctx, req, 200, [&](store::Transaction& tx) {
    model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
    env_id = env.id;
    auto u = tx.upgrades().by_id(req.params["id"]);
    if (!u || u->environment_id != env.id) throw Error::NotFound("upgrade '" + req.params["id"] + "' not found", "id");
    std::optional<model::Service> svc;
    if (u->kind != model::kVersionEks) svc = find_service(tx, env, u->service_name);
    json body = req.body.empty() ? json::object() : parse_json_body(req);
    int64_t now = ctx.clock.unix_seconds();
    const std::optional<model::Service> before = svc;
    act(*u, svc ? &*svc : nullptr, env, now, body);
    u->updated_at = now;
    tx.upgrades().put(*u);
    if (svc != before) {
      svc->updated_at = now;
      tx.services().put(*svc);
      store::raise_revision(tx, env, now);
    }
    out = upgrade_json(*u, env, svc ? &*svc : nullptr, now);
  });
  ctx.enqueue(upgrades_key(env_id));
  return HttpResponse::json(200, out);
}

[[noreturn]] void wrong_state(const model::Upgrade& u, const std::string& action) {
  throw Error::Conflict("invalid_state", "upgrade " + u.id + " is " + u.state + ": it can't be " + action, "id");
}

// Whether the upgrade has begun changing things: its rollout is the
// service's, or (the cluster's) its upgrader has recorded a step.
bool begun(const model::Upgrade& u, const model::Service* svc) {
  if (!svc) return controllers::cluster_upgrade_begun(u);
  return svc->rollout && svc->rollout->id == u.id;
}

}  // namespace

void add_upgrade_routes(Router& router, ServerContext& ctx) {
  router.add({"POST", "/v1/versions", "version.publish", Access::kAdmin, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json out;
    std::vector<std::string> environments;
    transact_as_caller(ctx, req, 201, [&](store::Transaction& tx) {
      environments.clear();  // this attempt's (a transaction may run again)
      model::PublishedVersion v = model::parse_version_publish(parse_json_body(req), ctx.clock.unix_seconds());
      if (tx.versions().by_name(v.kind, v.name))
        throw Error::Conflict("already_exists", "version " + v.kind + " " + v.name + " is published", "name");
      v.published_by = req.caller().subject.empty() ? "token:" + req.caller().token_id : req.caller().subject;
      tx.versions().put(v);
      // Every environment with services looks for upgrades now; for a
      // Kubernetes version, every environment with a cluster the plane upgrades.
      if (v.kind == model::kVersionEks) {
        for (const auto& e : tx.environments().list(""))
          if (const cloud::CloudTraits* traits = cloud::find_cloud(e.cloud); traits && !traits->kubernetes_version.empty())
            environments.push_back(e.id);
      } else {
        std::string last;
        for (const auto& s : tx.services().list(""))
          if (s.environment_id != last) environments.push_back(last = s.environment_id);
      }
      out = model::to_json(v);
    });
    for (const auto& id : environments) ctx.enqueue(upgrades_key(id));
    return HttpResponse::json(201, out);
  }));

  router.add({"GET", "/v1/versions", "version.list", Access::kRead, Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string&, const HttpRequest&) {
               json items = json::array();
               for (const auto& v : tx.versions().list("")) items.push_back(model::to_json(v));
               return json{{"items", items}}.dump();
             }));

  router.add({"GET", "/v1/environments/{env}/upgrades", "upgrade.list", Access::kRead, Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json items = json::array();
    ctx.store.read([&](store::Transaction& tx) {
      items = json::array();
      model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
      auto services = tx.services().list(env.id);
      int64_t now = ctx.clock.unix_seconds();
      for (const auto& u : tx.upgrades().list(env.id, false))
        items.push_back(upgrade_json(u, env, service_named(services, u.service_name), now));
    });
    return HttpResponse::json(200, {{"items", items}});
  }));

  // Start a pending upgrade: don't wait for the channel's day (a window still
  // applies; without one, it runs at once).
  router.add({"POST", "/v1/environments/{env}/upgrades/{id}/start", "upgrade.start", Access::kWrite,
              Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return act_on_upgrade(ctx, req, [](model::Upgrade& u, model::Service*, model::Environment&, int64_t,
                                       const json& body) {
      model::check_object_fields(body, {}, {});
      if (u.state != model::kUpgradePending) wrong_state(u, "started (a paused one is resumed first)");
      u.started = true;
    });
  }));

  // Pause: a pending one waits; a running one stops after the replica step in progress.
  router.add({"POST", "/v1/environments/{env}/upgrades/{id}/pause", "upgrade.pause", Access::kWrite,
              Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return act_on_upgrade(ctx, req, [](model::Upgrade& u, model::Service* svc, model::Environment&, int64_t now,
                                       const json& body) {
      model::check_object_fields(body, {}, {});
      if (u.state != model::kUpgradePending && u.state != model::kUpgradeRunning) wrong_state(u, "paused");
      if (!svc && begun(u, svc)) u.cluster.paused_at = now;  // its deadline stands still meanwhile
      u.state = model::kUpgradePaused;
      u.waiting_for = "";
      // The cluster's upgrader stops at its next step: its journal refuses a
      // paused upgrade's save. A service's rollout has its deadline pulled
      // in, never out: a deadline already past stays where it is.
      if (svc && begun(u, svc) && (svc->rollout->not_after == 0 || svc->rollout->not_after > now))
        svc->rollout->not_after = now;
    });
  }));

  router.add({"POST", "/v1/environments/{env}/upgrades/{id}/resume", "upgrade.resume", Access::kWrite,
              Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return act_on_upgrade(ctx, req, [](model::Upgrade& u, model::Service* svc, model::Environment& env, int64_t now,
                                       const json& body) {
      model::check_object_fields(body, {}, {});
      if (u.state != model::kUpgradePaused) wrong_state(u, "resumed");
      u.state = begun(u, svc) ? model::kUpgradeRunning : model::kUpgradePending;
      if (!svc) {
        u.cluster.resume_at = 0;  // the upgrader looks at once
        if (u.cluster.paused_at > 0 && u.cluster.deadline > 0)
          u.cluster.deadline += std::max<int64_t>(0, now - u.cluster.paused_at);
        u.cluster.paused_at = 0;
        return;
      }
      // With a window the controller hands the agent the window's close when
      // one is open; without one nothing holds it back.
      bool windowed = svc->maintenance ? svc->maintenance->window.has_value() : env.maintenance.window.has_value();
      if (begun(u, svc) && !windowed) svc->rollout->not_after = 0;
    });
  }));

  // Defer, once: by 1-14 days past its channel's day (or past now, if later).
  router.add({"POST", "/v1/environments/{env}/upgrades/{id}/defer", "upgrade.defer", Access::kWrite,
              Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return act_on_upgrade(ctx, req, [](model::Upgrade& u, model::Service*, model::Environment&, int64_t now,
                                       const json& body) {
      model::check_object_fields(body, {"days"}, {});
      int64_t days = model::get_int(body, "days", 0, 1, model::kMaxDeferralDays);
      if (!body.contains("days")) throw Error::Invalid("required", "days is required (1-14)", "days");
      if (u.state != model::kUpgradePending) wrong_state(u, "deferred");
      if (u.deferred_until) throw Error::Conflict("already_deferred", "upgrade " + u.id + " was deferred once", "id");
      u.deferred_until = std::max(now, u.available_at) + days * 86400;
    });
  }));
}

}  // namespace byoc::server
