// Parsing and validation of API request bodies. Each function either returns
// a complete record (defaults filled in, nothing persisted) or throws
// byoc::Error naming the field at fault. Pure: no store, no clock.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"
#include "plan/profiles.h"

namespace byoc::model {

Environment parse_environment_create(const nlohmann::json& body);

// PATCH of an environment: instance_types and daemonsets (`aws` only), the
// vendor's access_policy (any cloud; the route lets admins alone set it).
// Returns the updated environment (validated as a whole).
Environment apply_environment_patch(const nlohmann::json& body, Environment environment);
// {"approvals" 1-3, "max_duration_seconds", "pending_ttl_seconds" (60 s - 7 days)}:
// the fields given replace `policy`'s.
AccessPolicy parse_access_policy(const nlohmann::json& body, AccessPolicy policy);

// `environment` is the one the service will live in (its cloud's offer
// decides the allowed ClickHouse versions). `profiles` are the ones it offers;
// a service naming one takes its requests as cpu_millis/memory_mib.
Service parse_service_create(const nlohmann::json& body, const Environment& environment,
                             const std::vector<plan::Profile>& profiles);

// The fields a PATCH of a service may change; absent ones stay as they are.
// allowed_ips apply at once; a resize (profile, cpu_millis, memory_mib) or a
// scale (replicas) applies at once too unless `when` is "window"
// (service_resize.h). Shards are fixed.
struct ServicePatch {
  std::optional<std::vector<std::string>> allowed_ips;
  std::optional<std::string> profile;
  std::optional<int> cpu_millis;
  std::optional<int> memory_mib;
  std::optional<int> replicas;
  bool at_window = false;  // "when": "window" (default "now")
  bool resizes() const { return profile || cpu_millis || memory_mib || replicas; }
};
ServicePatch parse_service_patch(const nlohmann::json& body);

}  // namespace byoc::model
