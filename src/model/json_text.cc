#include "model/json_text.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "base/clock.h"

namespace byoc::model {
namespace {

void append_integer(std::string& out, int64_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

void append_strings(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, values[i]);
  }
  out += ']';
}

// Writes `{"k1":v1,"k2":v2,...}` as a sequence of field() calls; callers give
// the keys in sorted order, as nlohmann::json (a std::map) keeps them.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ~ObjectWriter() { out_ += '}'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  std::string& key(const char* name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;  // our keys need no escaping
    out_ += "\":";
    return out_;
  }
  void field(const char* name, const std::string& value) { append_json_string(key(name), value); }
  void field(const char* name, int64_t value) { append_integer(key(name), value); }
  void field(const char* name, bool value) { key(name) += value ? "true" : "false"; }
  void timestamp(const char* name, int64_t unix_seconds) { field(name, format_rfc3339(unix_seconds)); }
  void strings(const char* name, const std::vector<std::string>& values) { append_strings(key(name), values); }

 private:
  std::string& out_;
  bool first_ = true;
};

void append_conditions(std::string& out, const std::vector<Condition>& conditions) {
  out += '[';
  for (size_t i = 0; i < conditions.size(); ++i) {
    if (i) out += ',';
    const Condition& c = conditions[i];
    ObjectWriter o(out);
    o.timestamp("last_transition_time", c.last_transition_time);
    o.field("reason", c.reason);
    o.field("status", c.status);
    o.field("type", c.type);
  }
  out += ']';
}

}  // namespace

void append_json_string(std::string& out, const std::string& value) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (std::any_of(value.begin(), value.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; })) {
    // Non-ASCII: nlohmann checks the UTF-8 (it throws on invalid bytes) and
    // writes it, so both paths agree byte for byte.
    out += nlohmann::json(value).dump();
    return;
  }
  out += '"';
  size_t plain_from = 0;  // runs of characters that need no escape are copied at once
  for (size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value, plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(value, plain_from, std::string::npos);
  out += '"';
}

void append_json(std::string& out, const Environment& e) {
  ObjectWriter o(out);
  {
    ObjectWriter policy(o.key("access_policy"));
    policy.field("approvals", static_cast<int64_t>(e.access_policy.approvals));
    policy.field("max_duration_seconds", e.access_policy.max_duration_seconds);
    policy.field("pending_ttl_seconds", e.access_policy.pending_ttl_seconds);
  }
  {
    std::string& account = o.key("account");
    account += '{';
    for (auto it = e.account.begin(); it != e.account.end(); ++it) {
      if (it != e.account.begin()) account += ',';
      append_json_string(account, it->first);
      account += ':';
      append_json_string(account, it->second);
    }
    account += '}';
  }
  {
    ObjectWriter agent(o.key("agent_access"));
    agent.field("customer_approval_required", e.agent_access.customer_approval_required);
    agent.field("max_grant_seconds", e.agent_access.max_grant_seconds);
    agent.field("reported", e.agent_access.reported);
    agent.strings("scopes", e.agent_access.scopes);
    agent.field("support_access", e.agent_access.support_access);
  }
  o.field("applied_revision", e.applied_revision);
  o.field("ca_pem", e.ca_pem);
  o.field("cidr", e.cidr);
  o.field("cloud", e.cloud);
  append_conditions(o.key("conditions"), e.conditions);
  o.timestamp("created_at", e.created_at);
  {
    ObjectWriter daemonsets(o.key("daemonsets"));
    daemonsets.field("cpu_millis", static_cast<int64_t>(e.daemonset_cpu_millis));
    daemonsets.field("memory_mib", static_cast<int64_t>(e.daemonset_memory_mib));
  }
  o.field("id", e.id);
  o.strings("instance_types", e.instance_types);
  o.field("message", e.message);
  o.field("name", e.name);
  o.field("organization", e.organization);
  o.field("profiles_from", profiles_from(e));
  o.field("reason", e.reason);
  o.field("region", e.region);
  o.field("revision", e.revision);
  o.field("state", e.state);
  o.timestamp("updated_at", e.updated_at);
  o.strings("zones", e.zones);
}

void append_json(std::string& out, const Service& s, const std::string& environment_name) {
  ObjectWriter o(out);
  o.strings("allowed_ips", s.allowed_ips);
  o.field("clickhouse_version", s.clickhouse_version);
  o.field("cpu_millis", static_cast<int64_t>(s.cpu_millis));
  o.timestamp("created_at", s.created_at);
  o.field("endpoint", s.endpoint);
  o.field("environment", environment_name);
  o.field("id", s.id);
  o.field("memory_mib", static_cast<int64_t>(s.memory_mib));
  o.field("name", s.name);
  o.field("native_endpoint", s.native_endpoint);
  if (s.node_type.empty()) o.key("node_type") += "null";
  else o.field("node_type", s.node_type);
  // Rare, and nested: the one rendering there is.
  o.key("pending_resize") += s.pending_resize ? to_json(*s.pending_resize).dump() : "null";
  if (s.profile.empty()) o.key("profile") += "null";
  else o.field("profile", s.profile);
  o.field("reason", s.reason);
  o.field("replicas", static_cast<int64_t>(s.replicas));
  o.field("shards", static_cast<int64_t>(s.shards));
  o.field("state", s.state);
  o.field("support_gateway", s.support_gateway);
  o.timestamp("updated_at", s.updated_at);
}

}  // namespace byoc::model
