#include "plan/json_fields.h"

#include <set>

#include "base/error.h"

namespace byoc::plan {

using nlohmann::json;

void only_fields(const json& j, const std::string& where, std::initializer_list<const char*> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      std::string field = where.empty() ? it.key() : where + "." + it.key();
      throw Error::Invalid("unknown_field", "unknown field '" + it.key() + "'", field);
    }
  }
}

const json& require_object(const json& j, const std::string& field) {
  if (!j.is_object()) throw Error::Invalid("invalid_type", (field.empty() ? "input" : field) + " must be an object", field);
  return j;
}

std::string get_string(const json& obj, const char* key, const std::string& field, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) throw Error::Invalid("missing_field", field + " is required", field);
    return {};
  }
  if (!it->is_string() || it->get<std::string>().empty()) {
    throw Error::Invalid("invalid_type", field + " must be a non-empty string", field);
  }
  return it->get<std::string>();
}

int64_t get_count(const json& obj, const char* key, const std::string& field, bool positive, int64_t fallback,
                  bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) throw Error::Invalid("missing_field", field + " is required", field);
    return fallback;
  }
  if (!it->is_number_integer()) throw Error::Invalid("invalid_type", field + " must be an integer", field);
  int64_t v = it->get<int64_t>();
  if (v < 0 || (positive && v == 0)) {
    throw Error::Invalid("out_of_range", field + (positive ? " must be positive" : " can't be negative"), field);
  }
  // Far above any count of ours (the largest node has 64 cores, 512 GiB): keeps arithmetic away from overflow.
  if (v > (int64_t{1} << 40)) throw Error::Invalid("out_of_range", field + " is too large", field);
  return v;
}

std::vector<std::string> get_string_list(const json& obj, const char* key, const std::string& field, bool required,
                                         bool distinct) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) throw Error::Invalid("missing_field", field + " is required", field);
    return {};
  }
  if (!it->is_array()) throw Error::Invalid("invalid_type", field + " must be an array of strings", field);
  if (it->empty()) throw Error::Invalid("invalid_value", field + " can't be empty", field);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    std::string f = field + "[" + std::to_string(i) + "]";
    const json& v = (*it)[i];
    if (!v.is_string() || v.get<std::string>().empty()) {
      throw Error::Invalid("invalid_type", f + " must be a non-empty string", f);
    }
    if (distinct && !seen.insert(v.get<std::string>()).second) {
      throw Error::Invalid("duplicate_value", f + " repeats '" + v.get<std::string>() + "'", f);
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace byoc::plan
