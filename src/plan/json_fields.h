// Readers for the planners' JSON files (placement input, maintenance windows,
// fleets). Each throws Error::Invalid naming the field at fault ("a.b[2]").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace byoc::plan {

// Every key of `j` is one of `allowed`; `where` prefixes the field named.
void only_fields(const nlohmann::json& j, const std::string& where, std::initializer_list<const char*> allowed);
const nlohmann::json& require_object(const nlohmann::json& j, const std::string& field);
// A non-empty string; "" when absent and not required.
std::string get_string(const nlohmann::json& obj, const char* key, const std::string& field, bool required = true);
// A non-negative integer (positive if asked) up to 2^40; `fallback` when absent and not required.
int64_t get_count(const nlohmann::json& obj, const char* key, const std::string& field, bool positive,
                  int64_t fallback, bool required);
// A non-empty array of non-empty strings (distinct if asked); empty when absent and not required.
std::vector<std::string> get_string_list(const nlohmann::json& obj, const char* key, const std::string& field,
                                         bool required, bool distinct);

}  // namespace byoc::plan
