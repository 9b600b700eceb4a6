#include "access/access_event.h"

namespace byoc::access {

std::string format_access_event(const model::AccessRequest& r, const AccessEvent& e) {
  nlohmann::ordered_json entry = {{"type", "access"},
                                  {"time_ms", e.unix_millis},
                                  {"event", e.event},
                                  {"request", r.id},
                                  {"environment", r.environment_id},
                                  {"scope", r.scope},
                                  {"requester", r.requester},
                                  {"state", r.state},
                                  {"by", e.by},
                                  {"detail", e.detail.is_null() ? nlohmann::json::object() : e.detail}};
  return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_policy_event(int64_t unix_millis, const std::string& environment_id, const std::string& by,
                                const std::string& which, const nlohmann::json& policy) {
  nlohmann::ordered_json entry = {{"type", "policy"},     {"time_ms", unix_millis}, {"environment", environment_id},
                                  {"policy", which},      {"by", by},               {"value", policy}};
  return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_kube_request_event(int64_t unix_millis, const std::string& environment_id,
                                      const model::KubeRequest& k) {
  nlohmann::ordered_json entry = {{"type", "kube_request"},   {"time_ms", unix_millis},
                                  {"environment", environment_id}, {"request", k.request_id},
                                  {"serial", k.serial},           {"verb", k.verb},
                                  {"api_group", k.api_group},     {"resource", k.resource},
                                  {"subresource", k.subresource}, {"namespace", k.namespace_name},
                                  {"name", k.name},               {"path", k.path},
                                  {"decision", k.decision},       {"status", k.status},
                                  {"count", k.count},             {"first", k.first},
                                  {"last", k.last},               {"seq", k.seq}};
  return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_cloud_access_event(int64_t unix_millis, const std::string& environment_id,
                                      const nlohmann::json& event) {
  nlohmann::ordered_json entry = {{"type", "cloud_access"}, {"time_ms", unix_millis}, {"environment", environment_id},
                                  {"by", "plane"},          {"detail", event}};
  return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_gateway_denial_event(int64_t unix_millis, const std::string& environment_id,
                                        const model::GatewayDenial& denial) {
  nlohmann::ordered_json entry = {{"type", "gateway_denial"},   {"time_ms", unix_millis},
                                  {"environment", environment_id}, {"service", denial.service},
                                  {"reason_code", denial.reason},  {"serial", denial.serial},
                                  {"count", denial.count},         {"first", denial.first},
                                  {"last", denial.last},           {"seq", denial.seq}};
  return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace byoc::access
