// Parsing and validation of API request bodies. Each function either returns
// a complete record (defaults filled in, nothing persisted) or throws
// byoc::Error naming the field at fault. Pure: no store, no clock.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"

namespace byoc::model {

Environment parse_environment_create(const nlohmann::json& body);
// `environment` is the one the service will live in (its cloud's offer
// decides the allowed ClickHouse versions).
Service parse_service_create(const nlohmann::json& body, const Environment& environment);

// The fields a PATCH of a service may change; absent ones stay as they are.
struct ServicePatch {
  std::optional<std::vector<std::string>> allowed_ips;
};
ServicePatch parse_service_patch(const nlohmann::json& body);

}  // namespace byoc::model
