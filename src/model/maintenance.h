// A customer's maintenance policy: when its services may be disturbed by
// changes the vendor starts (upgrades), and how soon after publication a new
// version reaches them. An environment has one (its services' default); a
// service may have its own. docs/maintenance.md has the format.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "plan/maintenance_window.h"

namespace byoc::model {

// Release channels: days between a version's publication to the management
// plane and its reaching a service.
inline constexpr const char* kChannelFast = "fast";        // 0 days
inline constexpr const char* kChannelRegular = "regular";  // 14 days
inline constexpr const char* kChannelSlow = "slow";        // 28 days
// The channel's delay in days; -1 for an unknown channel.
int channel_delay_days(const std::string& channel);

struct MaintenancePolicy {
  // None: vendor-started changes never start by themselves; each waits for
  // someone to start it, then runs at once.
  std::optional<plan::MaintenanceWindow> window;
  std::string channel = kChannelRegular;
  bool operator==(const MaintenancePolicy&) const = default;
};

// The body of a PUT: {"window": {…} | null, "channel": "fast|regular|slow"};
// a field left out takes its default (no window, regular). Throws Error
// (400 for a wrong JSON type, 422 naming the field) on anything else.
// `stored`: a policy read back from the store, whose time zone this server's
// tz database may lack (validate() in plan/maintenance_window.h).
MaintenancePolicy parse_maintenance_policy(const nlohmann::json& body, bool stored = false);
// {"window": … | null, "channel"}.
nlohmann::json to_json(const MaintenancePolicy& policy);

// What applies to a service: its own policy, else its environment's.
struct EffectiveMaintenance {
  MaintenancePolicy policy;
  std::string source;  // "service" | "environment"
};
EffectiveMaintenance effective_maintenance(const std::optional<MaintenancePolicy>& service,
                                           const MaintenancePolicy& environment);
// {"window", "channel", "source"}.
nlohmann::json to_json(const EffectiveMaintenance& effective);

}  // namespace byoc::model
