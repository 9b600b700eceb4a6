#include "model/objects.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "cloud/traits.h"

namespace byoc::model {
using nlohmann::json;

const Condition* Environment::condition(const std::string& type) const {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

bool Environment::set_condition(const std::string& type, bool status, const std::string& reason, int64_t now) {
  for (auto& c : conditions) {
    if (c.type != type) continue;
    if (c.status == status && c.reason == reason) return false;
    if (c.status != status) c.last_transition_time = now;
    c.status = status;
    c.reason = reason;
    return true;
  }
  conditions.push_back({type, status, reason, now});
  return true;
}

void Operation::advance_to(const std::string& step) {
  bool found = false;
  for (const auto& s : steps) found = found || s.name == step;
  if (!found) return;
  for (auto& s : steps) {
    if (s.name == step) {
      s.state = "running";
      return;
    }
    s.state = "done";
  }
}

void Operation::succeed(json result_value, int64_t now) {
  for (auto& s : steps) s.state = "done";
  status = "succeeded";
  result = std::move(result_value);
  updated_at = now;
}

void Operation::fail(const std::string& code, const std::string& message, int64_t now) {
  for (auto& s : steps)
    if (s.state == "running") s.state = "failed";
  status = "failed";
  error = json{{"code", code}, {"message", message}};
  updated_at = now;
}

double Operation::progress() const {
  if (steps.empty()) return done() ? 1.0 : 0.0;
  int finished = 0;
  for (const auto& s : steps) finished += s.state == "done";
  return static_cast<double>(finished) / static_cast<double>(steps.size());
}

namespace {
json conditions_json(const std::vector<Condition>& conditions) {
  json out = json::array();
  for (const auto& c : conditions)
    out.push_back({{"type", c.type},
                   {"status", c.status},
                   {"reason", c.reason},
                   {"last_transition_time", format_rfc3339(c.last_transition_time)}});
  return out;
}
}  // namespace

std::string profiles_from(const Environment& e) {
  const cloud::CloudTraits* traits = cloud::find_cloud(e.cloud);
  return cloud::capacity_source_name(traits ? traits->capacity : cloud::CapacitySource::kHost);
}

json to_json(const Environment& e) {
  return {{"id", e.id},
          {"account", e.account},
          {"name", e.name},
          {"organization", e.organization},
          {"cloud", e.cloud},
          {"region", e.region},
          {"cidr", e.cidr},
          {"zones", e.zones},
          {"instance_types", e.instance_types},
          {"daemonsets", {{"cpu_millis", e.daemonset_cpu_millis}, {"memory_mib", e.daemonset_memory_mib}}},
          {"profiles_from", profiles_from(e)},
          {"state", e.state},
          {"reason", e.reason},
          {"message", e.message},
          {"conditions", conditions_json(e.conditions)},
          {"revision", e.revision},
          {"applied_revision", e.applied_revision},
          {"ca_pem", e.ca_pem},
          {"access_policy", to_json(e.access_policy)},
          {"agent_access", to_json(e.agent_access)},
          {"created_at", format_rfc3339(e.created_at)},
          {"updated_at", format_rfc3339(e.updated_at)}};
}

json to_json(const ServiceResize& r) {
  return {{"profile", r.profile.empty() ? json(nullptr) : json(r.profile)},
          {"cpu_millis", r.cpu_millis},
          {"memory_mib", r.memory_mib},
          {"replicas", r.replicas},
          {"requested_at", format_rfc3339(r.requested_at)}};
}

json to_json(const Service& s, const std::string& environment_name) {
  return {{"id", s.id},
          {"environment", environment_name},
          {"name", s.name},
          {"clickhouse_version", s.clickhouse_version},
          {"shards", s.shards},
          {"replicas", s.replicas},
          {"cpu_millis", s.cpu_millis},
          {"memory_mib", s.memory_mib},
          {"profile", s.profile.empty() ? json(nullptr) : json(s.profile)},
          {"node_type", s.node_type.empty() ? json(nullptr) : json(s.node_type)},
          {"pending_resize", s.pending_resize ? to_json(*s.pending_resize) : json(nullptr)},
          {"allowed_ips", s.allowed_ips},
          {"state", s.state},
          {"reason", s.reason},
          {"endpoint", s.endpoint},
          {"native_endpoint", s.native_endpoint},
          {"support_gateway", s.support_gateway},
          {"created_at", format_rfc3339(s.created_at)},
          {"updated_at", format_rfc3339(s.updated_at)}};
}

json to_json(const Operation& o) {
  json steps = json::array();
  for (const auto& s : o.steps) steps.push_back({{"name", s.name}, {"state", s.state}});
  return {{"id", o.id},
          {"kind", o.kind},
          {"environment", o.environment_name},
          {"service", o.service_name.empty() ? json(nullptr) : json(o.service_name)},
          {"status", o.status},
          {"steps", steps},
          {"progress", o.progress()},
          {"result", o.result},
          {"error", o.error},
          {"created_at", format_rfc3339(o.created_at)},
          {"updated_at", format_rfc3339(o.updated_at)}};
}

std::string new_id(const std::string& prefix) { return prefix + crypto::hex(crypto::random_bytes(8)); }

}  // namespace byoc::model
