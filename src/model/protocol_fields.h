// The protocol's field readers (protocol.cc's internals, shared by its
// desired-state and report halves): a strict JSON object that refuses any
// key not declared, and checks of the values that recur in both directions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "base/error.h"

namespace byoc::model::protocol_fields {
using nlohmann::json;

// Reads one JSON object under a path, rejecting any key not declared.
class StrictObject {
 public:
  StrictObject(const json& j, std::string path, std::vector<std::string> allowed)
      : j_(j), path_(std::move(path)) {
    if (!j.is_object()) throw Error::Invalid("invalid_value", "must be an object", path_);
    for (const auto& [key, unused] : j.items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        throw Error::Invalid("field_not_allowed", "field is not part of the protocol", field(key));
  }

  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  const json* find(const std::string& key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_number_integer()) throw Error::Invalid("invalid_value", "must be an integer", field(key));
    int64_t n = v->get<int64_t>();
    if (n < min || n > max) throw Error::Invalid("invalid_value", "out of range", field(key));
    return n;
  }

  std::string string(const std::string& key, size_t max_length = 256) const {
    const json* v = find(key);
    if (!v) return "";
    if (!v->is_string()) throw Error::Invalid("invalid_value", "must be a string", field(key));
    std::string s = v->get<std::string>();
    if (s.size() > max_length) throw Error::Invalid("invalid_value", "too long", field(key));
    return s;
  }

  bool boolean(const std::string& key, bool required) const {
    const json* v = find(key);
    if (!v) {
      if (required) throw Error::Invalid("invalid_value", "is required", field(key));
      return false;
    }
    if (!v->is_boolean()) throw Error::Invalid("invalid_value", "must be true or false", field(key));
    return v->get<bool>();
  }

  std::string enumerated(const std::string& key, const std::vector<std::string>& allowed) const {
    std::string s = string(key);
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
      throw Error::Invalid("invalid_value", "not an allowed value", field(key));
    return s;
  }

  template <typename F>
  void each(const std::string& key, size_t max_items, F&& fn) const {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_array() || v->size() > max_items)
      throw Error::Invalid("invalid_value", "must be an array of at most " + std::to_string(max_items),
                           field(key));
    for (size_t i = 0; i < v->size(); ++i) fn((*v)[i], field(key) + "[" + std::to_string(i) + "]");
  }

 private:
  const json& j_;
  std::string path_;
};

inline constexpr int64_t kMaxInt = int64_t{1} << 53;

// A DNS-1123 label.
std::string checked_name(const StrictObject& o, const std::string& key);
// https://HOST:PORT (HOST:PORT for "native_endpoint"), or "".
std::string checked_endpoint(const StrictObject& o, const std::string& key);
// Text meant for people (a subject): no control characters.
std::string printable(const StrictObject& o, const std::string& key, size_t max_length);
// One public PEM certificate, or "" when absent.
std::string certificate(const StrictObject& o, const std::string& key);
// A list of management-plane URLs, each https://HOST:PORT, no repeats.
std::vector<std::string> parse_plane_servers(const StrictObject& o, const std::string& key);
const std::regex& hex64();
// An IPv4/IPv6 literal or a lowercase DNS name; no port, no scheme.
bool is_host(const std::string& host);
// A certificate serial as the gateways normalize it, or "".
std::string checked_serial(const StrictObject& o, const std::string& key);
// A rollout id: 1-64 of [A-Za-z0-9._-].
const std::regex& rollout_id();

}  // namespace byoc::model::protocol_fields
