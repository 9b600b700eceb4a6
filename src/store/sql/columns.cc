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
              {"message", e.message},
              {"account", e.account}}
      .dump();
}

void parse_cloud_state_column(std::string_view text, model::Environment& e) {
  json j = json::parse(text);
  e.cloud_handle = j.value("handle", "");
  e.cloud_action = j.value("action", "");
  e.cloud_token = j.value("token", "");
  e.reason = j.value("reason", "");
  e.message = j.value("message", "");
  e.account = j.value("account", std::map<std::string, std::string>{});
}

std::string access_column(const model::Environment& e) {
  json agent = model::to_json(e.agent_access);
  agent["support_ca_pem"] = e.agent_access.support_ca_pem;
  agent["denials_seq"] = e.agent_access.denials_seq;
  agent["kube_requests_seq"] = e.agent_access.kube_requests_seq;
  return json{{"policy", model::to_json(e.access_policy)}, {"agent", agent}}.dump();
}

void parse_access_column(std::string_view text, model::Environment& e) {
  json j = json::parse(text);
  model::AccessPolicy policy;
  if (j.contains("policy")) {
    const json& p = j["policy"];
    policy.approvals = p.value("approvals", policy.approvals);
    policy.max_duration_seconds = p.value("max_duration_seconds", policy.max_duration_seconds);
    policy.pending_ttl_seconds = p.value("pending_ttl_seconds", policy.pending_ttl_seconds);
  }
  model::AgentAccessPolicy agent;
  if (j.contains("agent")) {
    const json& a = j["agent"];
    agent.reported = a.value("reported", agent.reported);
    agent.support_access = a.value("support_access", agent.support_access);
    agent.customer_approval_required = a.value("customer_approval_required", agent.customer_approval_required);
    agent.max_grant_seconds = a.value("max_grant_seconds", agent.max_grant_seconds);
    agent.support_ca_pem = a.value("support_ca_pem", "");
    agent.scopes = a.value("scopes", agent.scopes);
    agent.denials_seq = a.value("denials_seq", int64_t{0});
    agent.kube_requests_seq = a.value("kube_requests_seq", int64_t{0});
  }
  e.access_policy = policy;
  e.agent_access = agent;
}

std::string maintenance_column(const std::optional<model::MaintenancePolicy>& policy) {
  return policy ? model::to_json(*policy).dump() : "";
}

std::optional<model::MaintenancePolicy> parse_maintenance_column(std::string_view text) {
  if (text.empty()) return std::nullopt;
  return model::parse_maintenance_policy(json::parse(text), /*stored=*/true);
}

std::string rollout_column(const model::Service& s) {
  json out = json::object();
  if (s.rollout)
    out["request"] = {{"id", s.rollout->id}, {"max_unavailable", s.rollout->max_unavailable},
                      {"not_after", s.rollout->not_after}};
  if (s.rollout_status) {
    const model::ReportedRollout& r = *s.rollout_status;
    out["status"] = {{"id", r.id},
                     {"state", r.state},
                     {"replicas_done", r.replicas_done},
                     {"replicas_total", r.replicas_total},
                     {"failed_shard", r.failed_shard},
                     {"failed_replica", r.failed_replica},
                     {"failed_check", r.failed_check}};
  }
  return out.dump();
}

void parse_rollout_column(std::string_view text, model::Service& s) {
  json j = json::parse(text);
  if (j.contains("request")) {
    const json& r = j["request"];
    s.rollout = model::RolloutRequest{r.at("id"), r.at("max_unavailable"), r.at("not_after")};
  }
  if (j.contains("status")) {
    const json& r = j["status"];
    s.rollout_status = model::ReportedRollout{r.at("id"),          r.at("state"),         r.at("replicas_done"),
                                              r.at("replicas_total"), r.at("failed_shard"), r.at("failed_replica"),
                                              r.at("failed_check")};
  }
}

std::string resize_column(const std::optional<model::ServiceResize>& r) {
  if (!r) return "";
  return json{{"profile", r->profile},
              {"cpu_millis", r->cpu_millis},
              {"memory_mib", r->memory_mib},
              {"replicas", r->replicas},
              {"requested_at", r->requested_at}}
      .dump();
}

std::optional<model::ServiceResize> parse_resize_column(std::string_view text) {
  if (text.empty()) return std::nullopt;
  json j = json::parse(text);
  return model::ServiceResize{j.at("profile"), j.at("cpu_millis"), j.at("memory_mib"), j.at("replicas"),
                              j.at("requested_at")};
}

}  // namespace byoc::store::sql
