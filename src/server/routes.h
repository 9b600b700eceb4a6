// Route registration. api_routes.cc holds the public API (environments,
// services, operations, join tokens); agent_routes.cc the agent channel (join
// and sync).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "model/objects.h"
#include "plan/profiles.h"
#include "server/context.h"
#include "server/router.h"

namespace byoc::server {

void add_api_routes(Router& router, ServerContext& ctx);
void add_agent_routes(Router& router, ServerContext& ctx);
void add_admin_routes(Router& router, ServerContext& ctx);
void add_profile_routes(Router& router, ServerContext& ctx);
// GET /v1/clouds: each cloud's name, fields and defaults.
void add_cloud_routes(Router& router, ServerContext& ctx);
// Access requests and their reviews (access_routes.cc).
void add_access_routes(Router& router, ServerContext& ctx);
// The audit logs and their proofs (audit_routes.cc).
void add_audit_routes(Router& router, ServerContext& ctx);
// GET /v1/environments/{env}/usage: totals of the usage intervals its agent reported.
void add_usage_routes(Router& router, ServerContext& ctx);

// Onboarding: POST /v1/environments/{env}/verify (onboarding_routes.cc).
void add_onboarding_routes(Router& router, ServerContext& ctx);
// The key under which an environment's reconcile is queued (ctx.enqueue).
std::string environment_key(const std::string& id);
// The environment named `name` in `organization`, or 404.
model::Environment find_environment(store::Transaction& tx, const std::string& organization,
                                    const std::string& name);
// The service named `name` in `environment`, or 404.
model::Service find_service(store::Transaction& tx, const model::Environment& environment, const std::string& name);
// Maintenance policies: GET|PUT /v1/environments/{env}/maintenance and
// GET|PUT|DELETE …/services/{svc}/maintenance (maintenance_routes.cc).
void add_maintenance_routes(Router& router, ServerContext& ctx);
// Versions and upgrades: POST|GET /v1/versions, GET /v1/environments/{env}/upgrades,
// POST …/upgrades/{id}/start|pause|resume|defer (upgrade_routes.cc).
void add_upgrade_routes(Router& router, ServerContext& ctx);
// The key under which an environment's upgrades are looked at (ctx.enqueue).
std::string upgrades_key(const std::string& environment_id);
// The replica profiles `environment` offers (see model::environment_profiles);
// for `local` environments the host is this machine.
std::vector<plan::Profile> environment_profiles(const model::Environment& environment);

// The OpenAPI document (docs/openapi.json, embedded at build time).
std::string_view openapi_document();

// The JSON body of an API request: 415 unless Content-Type is
// application/json (an empty body may omit it), 400 if it doesn't parse.
nlohmann::json parse_json_body(const HttpRequest& req);

// plane_wiring.cc: the server as one of its plane's.
// Hears what other servers publish: revisions wake waiting agents, deleted
// environments are forgotten, lost messages make it re-read revisions.
void subscribe_to_plane(ServerContext& ctx);
// Gives agents connected to this server before a restart one grace period (at start).
void seed_agent_presence(ServerContext& ctx);
// Marks agents that stopped syncing here (and whose server died) as
// disconnected, unless they sync with another server now (called periodically).
void sweep_agent_presence(ServerContext& ctx);

}  // namespace byoc::server
