// Maintenance policies: an environment's (its services' default) and a
// service's own. Customers set them for their organisation, admins for any;
// every role reads them.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "model/maintenance.h"
#include "server/auth.h"
#include "server/routes.h"

namespace byoc::server {
using nlohmann::json;

namespace {

void refuse_if_deleting(const model::Environment& env) {
  if (env.state == model::kDeleting)
    throw Error::Conflict("environment_deleting", "the environment is being deleted", "environment");
}

// A change to one service's own policy (none: it takes the environment's).
HttpResponse put_service_policy(ServerContext& ctx, HttpRequest& req,
                                const std::function<std::optional<model::MaintenancePolicy>()>& policy) {
  json out;
  std::string env_id;
  transact_as_caller(ctx, req, 200, [&](store::Transaction& tx) {
    model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
    model::Service svc = find_service(tx, env, req.params["svc"]);
    refuse_if_deleting(env);
    if (svc.state == model::kDeleting)
      throw Error::Conflict("service_deleting", "the service is being deleted", "service");
    std::optional<model::MaintenancePolicy> wanted = policy();
    if (wanted != svc.maintenance) {
      svc.maintenance = wanted;
      svc.updated_at = ctx.clock.unix_seconds();
      tx.services().put(svc);
    }
    out = model::to_json(model::effective_maintenance(svc.maintenance, env.maintenance));
    env_id = env.id;
  });
  ctx.enqueue(upgrades_key(env_id));
  return HttpResponse::json(200, out);
}

}  // namespace

void add_maintenance_routes(Router& router, ServerContext& ctx) {
  router.add({"GET", "/v1/environments/{env}/maintenance", "environment.maintenance_get", Access::kRead,
              Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string& org,
                                 const HttpRequest& req) {
               return model::to_json(find_environment(tx, org, req.params.at("env")).maintenance).dump();
             }));

  router.add({"PUT", "/v1/environments/{env}/maintenance", "environment.maintenance_put", Access::kWrite,
              Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json out;
    std::string env_id;
    transact_as_caller(ctx, req, 200, [&](store::Transaction& tx) {
      model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
      refuse_if_deleting(env);
      model::MaintenancePolicy policy = model::parse_maintenance_policy(parse_json_body(req));
      if (policy != env.maintenance) {
        env.maintenance = policy;
        env.updated_at = ctx.clock.unix_seconds();
        tx.environments().put(env);
      }
      out = model::to_json(env.maintenance);
      env_id = env.id;
    });
    ctx.enqueue(upgrades_key(env_id));
    return HttpResponse::json(200, out);
  }));

  router.add({"GET", "/v1/environments/{env}/services/{svc}/maintenance", "service.maintenance_get", Access::kRead,
              Effect::kRead},
             cached_read(ctx, [](store::Transaction& tx, const Principal&, const std::string& org,
                                 const HttpRequest& req) {
               model::Environment env = find_environment(tx, org, req.params.at("env"));
               model::Service svc = find_service(tx, env, req.params.at("svc"));
               return model::to_json(model::effective_maintenance(svc.maintenance, env.maintenance)).dump();
             }));

  router.add({"PUT", "/v1/environments/{env}/services/{svc}/maintenance", "service.maintenance_put", Access::kWrite,
              Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return put_service_policy(ctx, req, [&req]() -> std::optional<model::MaintenancePolicy> {
      return model::parse_maintenance_policy(parse_json_body(req));
    });
  }));

  // The service takes its environment's policy again.
  router.add({"DELETE", "/v1/environments/{env}/services/{svc}/maintenance", "service.maintenance_delete",
              Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    return put_service_policy(ctx, req, [] { return std::nullopt; });
  }));
}

}  // namespace byoc::server
