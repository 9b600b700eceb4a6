// The JSON-valued columns of the schema (zones, instance types,
// allowed IPs, conditions): written and read with nlohmann::json, in one
// place so both directions agree.
#pragma once

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

}  // namespace byoc::store::sql
