// What a Kubernetes RBAC authorizer would answer for a role's rules, written
// apart from the code under test (from the RBAC documentation) so the tests
// can ask the rendered ClusterRole itself rather than the table it came
// from. It honours "*" in apiGroups, resources, verbs and "*/SUB" in
// resources, so a wildcard slipping into the role would be caught by the
// tests that ask whether a forbidden thing is granted.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace byoc::kube::testing {

inline bool holds(const nlohmann::json& list, std::string_view value) {
  return list.is_array() &&
         std::any_of(list.begin(), list.end(), [&](const nlohmann::json& v) { return v.is_string() && v == value; });
}

// `resource` as RBAC names it: "pods" or "pods/log". `name` "" for a
// request without a name (list, watch, create, deletecollection).
inline bool rule_allows(const nlohmann::json& rule, std::string_view group, std::string_view resource,
                        std::string_view verb, std::string_view name = "") {
  if (!holds(rule.value("apiGroups", nlohmann::json::array()), group) &&
      !holds(rule.value("apiGroups", nlohmann::json::array()), "*"))
    return false;
  const nlohmann::json resources = rule.value("resources", nlohmann::json::array());
  size_t slash = resource.find('/');
  bool resource_match = holds(resources, resource) || holds(resources, "*") ||
                        (slash != std::string_view::npos && holds(resources, "*" + std::string(resource.substr(slash))));
  if (!resource_match) return false;
  const nlohmann::json verbs = rule.value("verbs", nlohmann::json::array());
  if (!holds(verbs, verb) && !holds(verbs, "*")) return false;
  if (rule.contains("resourceNames") && !rule["resourceNames"].empty()) return !name.empty() && holds(rule["resourceNames"], name);
  return true;
}

inline bool role_allows(const nlohmann::json& role, std::string_view group, std::string_view resource,
                        std::string_view verb, std::string_view name = "") {
  const nlohmann::json& rules = role.at("rules");
  return std::any_of(rules.begin(), rules.end(),
                     [&](const nlohmann::json& rule) { return rule_allows(rule, group, resource, verb, name); });
}

}  // namespace byoc::kube::testing
