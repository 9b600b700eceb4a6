// Capacity settings of environments and the replica profiles they offer.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/host.h"
#include "cloud/traits.h"
#include "model/environment_profiles.h"
#include "model/requests.h"
#include "server/auth.h"
#include "access/access_event.h"
#include "server/routes.h"

namespace byoc::server {
using nlohmann::json;

std::vector<plan::Profile> environment_profiles(const model::Environment& environment) {
  std::optional<model::HostCapacity> host;
  const cloud::CloudTraits* traits = cloud::find_cloud(environment.cloud);
  if (traits && traits->host_is_server) {
    // A local environment's host is this machine.
    host = this_host_capacity();
  } else if (environment.host_cores > 0) {
    // Others: what their agent reported of its host.
    host = HostCapacity{environment.host_cores, environment.host_memory_mib};
  }
  return model::environment_profiles(environment, host);
}

void add_profile_routes(Router& router, ServerContext& ctx) {
  router.add({"GET", "/v1/environments/{env}/profiles", "environment.profiles", Access::kRead, Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest& req) {
    model::Environment env;
    ctx.store.read([&](store::Transaction& tx) { env = find_environment(tx, req.organization(), req.params["env"]); });
    json items = json::array();
    for (const auto& p : environment_profiles(env)) items.push_back(p);
    return HttpResponse::json(200, {{"items", items}});
  }));

  router.add({"PATCH", "/v1/environments/{env}", "environment.update", Access::kWrite, Effect::kChange},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json out;
    bool changed = false;
    std::string id;
    transact_as_caller(ctx, req, 200, [&](store::Transaction& tx) {
      changed = false;
      model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
      id = env.id;
      if (env.state == model::kDeleting)
        throw Error::Conflict("environment_deleting", "the environment is being deleted", "environment");
      json body = parse_json_body(req);
      if (body.is_object() && body.contains("access_policy") && req.caller().role != "admin")
        throw Error::Forbidden("only admins set an environment's access policy");
      model::Environment updated = model::apply_environment_patch(body, env);
      if (updated.account != env.account) ctx.drivers.at(updated.cloud)->onboard(updated);
      if (updated.access_policy != env.access_policy && ctx.audit_logs)
        ctx.audit_logs->append(tx, ctx.audit_logs->environment_log(env.id),
                               access::format_policy_event(ctx.clock.unix_millis(), env.id,
                                                           req.caller().subject.empty() ? "token:" + req.caller().token_id
                                                                                        : req.caller().subject,
                                                           "vendor", model::to_json(updated.access_policy)));
      if (updated != env) {
        updated.updated_at = ctx.clock.unix_seconds();
        tx.environments().put(updated);
        changed = true;
      }
      out = model::to_json(updated);
    });
    // Reconciled at once: a new account is checked, not at the next periodic
    // look, and a cloud whose infrastructure follows the settings (the aws
    // environment's node groups) is brought in line.
    if (changed) ctx.enqueue(environment_key(id));
    return HttpResponse::json(200, out);
  }));
}

}  // namespace byoc::server
