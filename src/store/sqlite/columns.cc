#include "store/sqlite/columns.h"

#include <nlohmann/json.hpp>

namespace byoc::store::sqlite {
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

}  // namespace byoc::store::sqlite
