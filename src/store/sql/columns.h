// The JSON-valued columns of the schema (zones, instance types,
// allowed IPs, conditions): written and read with nlohmann::json, in one
// place so both directions agree.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/objects.h"

namespace byoc::store::sql {

std::string string_array_column(const std::vector<std::string>& values);
std::vector<std::string> parse_string_array_column(std::string_view text);

std::string conditions_column(const std::vector<model::Condition>& conditions);
std::vector<model::Condition> parse_conditions_column(std::string_view text);

// An environment's cloud-driver bookkeeping: handle, action, token, reason, message.
std::string cloud_state_column(const model::Environment& e);
void parse_cloud_state_column(std::string_view text, model::Environment& e);
// The environment's access policies (the vendor's and the agent-reported one) as one JSON column.
std::string access_column(const model::Environment& e);
void parse_access_column(std::string_view text, model::Environment& e);

// A maintenance policy as its API JSON; an environment's "{}" (the column's
// default) reads as the default policy, a service's "" as none (it inherits).
std::string maintenance_column(const std::optional<model::MaintenancePolicy>& policy);
std::optional<model::MaintenancePolicy> parse_maintenance_column(std::string_view text);

// A service's requested rollout and its reported progress: {"request"?, "status"?}.
std::string rollout_column(const model::Service& s);
void parse_rollout_column(std::string_view text, model::Service& s);
// A resize waiting for its window, as JSON ("" for none).
std::string resize_column(const std::optional<model::ServiceResize>& r);
std::optional<model::ServiceResize> parse_resize_column(std::string_view text);

}  // namespace byoc::store::sql
