// Usage read-out: GET /v1/environments/{env}/usage → the totals of the
// allocation intervals the environment's agent reported (each seq counted
// once). Read access like the other GETs of an environment.
#pragma once

#include "server/context.h"
#include "server/router.h"

namespace byoc::server {

void add_usage_routes(Router& router, ServerContext& ctx);

}  // namespace byoc::server
