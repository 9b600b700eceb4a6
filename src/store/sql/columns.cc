#include "store/sql/columns.h"

#include <nlohmann/json.hpp>

namespace byoc::store::sql {
using nlohmann::json;

std::string string_array_column(const std::vector<std::string>& values) { return json(values).dump(); }

std::vector<std::string> parse_string_array_column(std::string_view text) {
  return json::parse(text).get<std::vector<std::string>>();
}

std::string conditions_column(const std::vector<model::Condition>& conditions) {
  json out = json::array();
  for (const auto& c : conditions)
    out.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"t", c.last_transition_time}});
  return out.dump();
}

std::vector<model::Condition> parse_conditions_column(std::string_view text) {
  std::vector<model::Condition> out;
  for (const auto& c : json::parse(text))
    out.push_back({c.at("type"), c.at("status"), c.at("reason"), c.at("t")});
  return out;
}

std::string cloud_state_column(const model::Environment& e) {
  return json{{"handle", e.cloud_handle},
              {"action", e.cloud_action},
              {"token", e.cloud_token},
              {"reason", e.reason},
              {"message", e.message}}
      .dump();
}

void parse_cloud_state_column(std::string_view text, model::Environment& e) {
  json j = json::parse(text);
  e.cloud_handle = j.value("handle", "");
  e.cloud_action = j.value("action", "");
  e.cloud_token = j.value("token", "");
  e.reason = j.value("reason", "");
  e.message = j.value("message", "");
}

}  // namespace byoc::store::sql
