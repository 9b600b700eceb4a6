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
  router.add({"GET", "/v1/environments/{env}/usage", "environment.usage", Access::kRead, Effect::kRead},
             blocking(ctx, [&ctx](HttpRequest& req) {
    json out;
    ctx.store.read([&](store::Transaction& tx) {
      model::Environment env = find_environment(tx, req.organization(), req.params["env"]);
      store::UsageTotals t = tx.usage().totals(env.id);
      out = {{"intervals", t.intervals},
             {"cpu_millis_seconds", t.cpu_millis_seconds},
             {"memory_mib_seconds", t.memory_mib_seconds}};
    });
    return HttpResponse::json(200, out);
  }));
}

}  // namespace byoc::server
