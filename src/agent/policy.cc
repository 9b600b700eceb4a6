#include "agent/policy.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "access/signed_note.h"
#include "base/error.h"
#include "base/files.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void invalid(const std::string& source, const std::string& field, const std::string& why) {
  std::string where = field.empty() ? source : source + ": " + field;
  throw Error::Invalid("invalid_policy", "customer policy " + where + ": " + why, field);
}

bool get_bool(const std::string& source, const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_boolean()) invalid(source, key, "must be true or false");
  return it->get<bool>();
}

int get_prefix(const std::string& source, const json& j, const char* key, int fallback, int max) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  std::string range = "must be an integer between 0 and " + std::to_string(max);
  if (!it->is_number_integer()) invalid(source, key, range);
  // Unsigned values beyond int64 arrive as number_unsigned.
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max))
    invalid(source, key, range);
  int64_t v = it->get<int64_t>();
  if (v < 0 || v > max) invalid(source, key, range);
  return static_cast<int>(v);
}

}  // namespace

CustomerPolicy parse_customer_policy(std::string_view text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) invalid(source, "", "not valid JSON");
  if (!j.is_object()) invalid(source, "", "must be a JSON object");
  static const char* kFields[] = {"vendor_support_access",          "public_endpoint_allowed",
                                  "widest_allowlist_prefix_v4",     "widest_allowlist_prefix_v6",
                                  "vendor_may_reset_default_password", "require_customer_approval",
                                  "customer_approver_keys",         "max_support_grant_seconds",
                                  "support_access_scopes"};
  for (const auto& [key, unused] : j.items()) {
    bool known = false;
    for (const char* f : kFields) known = known || key == f;
    if (!known) invalid(source, key, "unknown field");
  }
  CustomerPolicy defaults;
  CustomerPolicy p;
  p.vendor_support_access = get_bool(source, j, "vendor_support_access", defaults.vendor_support_access);
  if (auto it = j.find("support_access_scopes"); it != j.end()) {
    const std::string want = "must be a list of clickhouse-system and/or kubernetes-readonly, each once";
    if (!it->is_array() || it->empty() || it->size() > model::access_scopes().size())
      invalid(source, "support_access_scopes", want);
    p.support_access_scopes.clear();
    for (const auto& scope : *it) {
      if (!scope.is_string() || !model::is_access_scope(scope.get<std::string>()) ||
          std::find(p.support_access_scopes.begin(), p.support_access_scopes.end(), scope.get<std::string>()) !=
              p.support_access_scopes.end())
        invalid(source, "support_access_scopes", want);
      p.support_access_scopes.push_back(scope.get<std::string>());
    }
  }
  p.public_endpoint_allowed =
      get_bool(source, j, "public_endpoint_allowed", defaults.public_endpoint_allowed);
  p.widest_allowlist_prefix_v4 =
      get_prefix(source, j, "widest_allowlist_prefix_v4", defaults.widest_allowlist_prefix_v4, 32);
  p.widest_allowlist_prefix_v6 =
      get_prefix(source, j, "widest_allowlist_prefix_v6", defaults.widest_allowlist_prefix_v6, 128);
  p.vendor_may_reset_default_password =
      get_bool(source, j, "vendor_may_reset_default_password", defaults.vendor_may_reset_default_password);
  p.require_customer_approval =
      get_bool(source, j, "require_customer_approval", defaults.require_customer_approval);
  if (auto it = j.find("customer_approver_keys"); it != j.end()) {
    if (!it->is_array() || it->size() > 16) invalid(source, "customer_approver_keys", "must be a list of at most 16 keys");
    for (size_t i = 0; i < it->size(); ++i) {
      std::string field = "customer_approver_keys[" + std::to_string(i) + "]";
      if (!(*it)[i].is_string()) invalid(source, field, "must be a verifier key (NAME+HASH+BASE64)");
      try {
        access::note::parse_verifier((*it)[i].get<std::string>());
      } catch (const Error& e) {
        invalid(source, field, e.what());
      }
      p.customer_approver_keys.push_back((*it)[i].get<std::string>());
    }
  }
  if (p.require_customer_approval && p.customer_approver_keys.empty())
    invalid(source, "customer_approver_keys", "require_customer_approval needs at least one key");
  if (auto it = j.find("max_support_grant_seconds"); it != j.end()) {
    if (!it->is_number_integer() || it->is_number_unsigned() && it->get<uint64_t>() > 7 * 24 * 3600u ||
        it->get<int64_t>() < 60 || it->get<int64_t>() > 7 * 24 * 3600)
      invalid(source, "max_support_grant_seconds", "must be an integer between 60 and 604800");
    p.max_support_grant_seconds = it->get<int64_t>();
  }
  return p;
}

CustomerPolicy load_customer_policy(const fs::path& state_dir) {
  fs::path path = state_dir / kPolicyFile;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return CustomerPolicy{};
    invalid(path.string(), "", std::string("cannot read: ") + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) invalid(path.string(), "", "not a regular file");
  // A limit anyone may rewrite limits nothing.
  if (st.st_mode & (S_IWGRP | S_IWOTH)) invalid(path.string(), "", "must be writable by its owner only");
  std::string text;
  try {
    text = files::read(path);
  } catch (const std::exception& e) {
    invalid(path.string(), "", e.what());
  }
  return parse_customer_policy(text, path.string());
}

json to_json(const CustomerPolicy& p) {
  return {{"vendor_support_access", p.vendor_support_access},
          {"support_access_scopes", p.support_access_scopes},
          {"public_endpoint_allowed", p.public_endpoint_allowed},
          {"widest_allowlist_prefix_v4", p.widest_allowlist_prefix_v4},
          {"widest_allowlist_prefix_v6", p.widest_allowlist_prefix_v6},
          {"vendor_may_reset_default_password", p.vendor_may_reset_default_password},
          {"require_customer_approval", p.require_customer_approval},
          {"customer_approver_keys", p.customer_approver_keys},
          {"max_support_grant_seconds", p.max_support_grant_seconds}};
}

}  // namespace byoc::agent
