#include "model/maintenance.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "model/validate.h"
#include "plan/maintenance_window_json.h"

namespace byoc::model {

using nlohmann::json;

int channel_delay_days(const std::string& channel) {
  if (channel == kChannelFast) return 0;
  if (channel == kChannelRegular) return 14;
  if (channel == kChannelSlow) return 28;
  return -1;
}

MaintenancePolicy parse_maintenance_policy(const json& body, bool stored) {
  check_object_fields(body, {"window", "channel"}, {"source"});
  MaintenancePolicy policy;
  if (body.contains("window") && !body["window"].is_null()) {
    if (!body["window"].is_object()) throw Error::BadRequest("invalid_type", "window must be an object or null", "window");
    policy.window = plan::maintenance_window_from_json(body["window"], "window", /*known_zone=*/!stored);
  }
  policy.channel = get_string(body, "channel", kChannelRegular);
  if (channel_delay_days(policy.channel) < 0) {
    throw Error::Invalid("invalid_channel", "channel must be fast, regular or slow, not '" + policy.channel + "'",
                         "channel");
  }
  return policy;
}

json to_json(const MaintenancePolicy& policy) {
  return {{"window", policy.window ? plan::to_json(*policy.window) : json(nullptr)}, {"channel", policy.channel}};
}

EffectiveMaintenance effective_maintenance(const std::optional<MaintenancePolicy>& service,
                                           const MaintenancePolicy& environment) {
  if (service) return {*service, "service"};
  return {environment, "environment"};
}

json to_json(const EffectiveMaintenance& effective) {
  json out = to_json(effective.policy);
  out["source"] = effective.source;
  return out;
}

}  // namespace byoc::model
