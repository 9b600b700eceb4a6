// Usage read-out: GET /v1/environments/{env}/usage → the totals of the
// allocation intervals the environment's agent reported (each seq counted
// once). Read access like the other GETs of an environment.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "server/auth.h"
#include "server/routes.h"

namespace byoc::server {
using nlohmann::json;

void add_usage_routes(Router& router, ServerContext& ctx) {
  router.add("GET", "/v1/environments/{env}/usage", blocking(ctx, [&ctx](HttpRequest& req) {
    json out;
    ctx.store.read([&](store::Transaction& tx) {
      Principal who = authenticate(tx, req);
      std::string organization = authorize(tx, who, req, Action::kRead);
      auto env = tx.environment_by_name(organization, req.params["env"]);
      if (!env) throw Error::NotFound("environment '" + req.params["env"] + "' not found", "environment");
      store::UsageTotals t = tx.usage_totals(env->id);
      out = {{"intervals", t.intervals},
             {"cpu_millis_seconds", t.cpu_millis_seconds},
             {"memory_mib_seconds", t.memory_mib_seconds}};
    });
    return HttpResponse::json(200, out);
  }));
}

}  // namespace byoc::server
