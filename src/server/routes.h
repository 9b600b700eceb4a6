// Route registration. api_routes.cc holds the public API (environments,
// services, operations, join tokens); agent_routes.cc the agent channel (join
// and sync).
#pragma once

#include "server/context.h"
#include "server/router.h"

namespace byoc::server {

void add_api_routes(Router& router, ServerContext& ctx);
void add_agent_routes(Router& router, ServerContext& ctx);

// Gives agents connected before a restart one grace period (at start).
void seed_agent_presence(ServerContext& ctx);
// Marks agents that stopped syncing as disconnected (called periodically).
void sweep_agent_presence(ServerContext& ctx);

}  // namespace byoc::server
