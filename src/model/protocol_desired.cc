// The desired state, down to agents: to_json and the strict parsers.
#include "model/protocol.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "base/error.h"
#include "model/access.h"
#include "model/protocol_fields.h"
#include "model/validate.h"

namespace byoc::model {
using nlohmann::json;
using namespace protocol_fields;

namespace {

SupportUser parse_support(const json& j, const std::string& path) {
  StrictObject o(j, path, {"enabled", "readonly", "log_queries", "password_sha256_hex"});
  SupportUser s;
  s.enabled = o.boolean("enabled", true);
  s.readonly = o.boolean("readonly", true);
  s.log_queries = o.boolean("log_queries", true);
  // Present but well-formed is for the agent to refuse (by code), not a parse error.
  s.password_sha256_hex = o.string("password_sha256_hex", 64);
  if (!s.password_sha256_hex.empty() && !std::regex_match(s.password_sha256_hex, hex64()))
    throw Error::Invalid("invalid_value", "must be empty or 64 lowercase hex digits",
                         o.field("password_sha256_hex"));
  return s;
}

RolloutRequest parse_rollout(const json& j, const std::string& path) {
  StrictObject o(j, path, {"id", "max_unavailable", "not_after"});
  for (const char* key : {"id", "max_unavailable"})
    if (!o.find(key)) throw Error::Invalid("invalid_value", "is required", o.field(key));
  RolloutRequest r;
  r.id = o.string("id", 64);
  if (!std::regex_match(r.id, rollout_id()))
    throw Error::Invalid("invalid_value", "must be 1-64 of A-Z a-z 0-9 . _ -", o.field("id"));
  r.max_unavailable = static_cast<int>(o.integer("max_unavailable", 1, 1, 16));
  r.not_after = o.integer("not_after", 0, 0, kMaxInt);
  return r;
}

}  // namespace

json to_json(const DesiredService& s) {
  json out = {{"name", s.name},
              {"clickhouse_version", s.clickhouse_version},
              {"shards", s.shards},
              {"replicas", s.replicas},
              {"cpu_millis", s.cpu_millis},
              {"memory_mib", s.memory_mib},
              {"allowed_ips", s.allowed_ips},
              {"default_password_sha256_hex", s.default_password_sha256_hex},
              {"cluster_hosts", s.cluster_hosts}};
  if (s.support)
    out["support"] = {{"enabled", s.support->enabled},
                      {"readonly", s.support->readonly},
                      {"log_queries", s.support->log_queries},
                      {"password_sha256_hex", s.support->password_sha256_hex}};
  if (s.rollout) {
    out["rollout"] = {{"id", s.rollout->id}, {"max_unavailable", s.rollout->max_unavailable}};
    if (s.rollout->not_after) out["rollout"]["not_after"] = s.rollout->not_after;
  }
  if (!s.profile.empty()) out["profile"] = s.profile;
  return out;
}

json to_json(const DesiredGrant& g) {
  json reviews = json::array();
  for (const auto& r : g.reviews)
    reviews.push_back({{"reviewer", r.reviewer}, {"role", r.role}, {"decision", r.decision}, {"time", r.time}});
  return {{"request_id", g.request_id},
          {"requester", g.requester},
          {"scope", g.scope},
          {"csr_pem", g.csr_pem},
          {"duration_seconds", g.duration_seconds},
          {"not_before", g.not_before},
          {"not_after", g.not_after},
          {"approve_before", g.approve_before},
          {"required_approvals", g.required_approvals},
          {"reviews", reviews},
          {"customer_approval", g.customer_approval}};
}

json to_json(const DesiredState& d) {
  json services = json::array();
  for (const auto& s : d.services) services.push_back(to_json(s));
  json out = {{"revision", d.revision},
              {"environment_id", d.environment_id},
              {"environment_name", d.environment_name},
              {"environment_cidr", d.environment_cidr},
              {"services", services}};
  // Only when there are some: an agent of protocol 2 never meets the field.
  if (!d.grants.empty()) {
    json grants = json::array();
    for (const auto& g : d.grants) grants.push_back(to_json(g));
    out["grants"] = grants;
  }
  return out;
}

DesiredState parse_desired_state(const json& j) {
  StrictObject o(j, "desired",
                 {"revision", "environment_id", "environment_name", "environment_cidr", "services", "grants"});
  DesiredState d;
  d.revision = o.integer("revision", 0, 0, kMaxInt);
  d.environment_id = o.string("environment_id", 64);
  d.environment_name = o.string("environment_name", 63);
  // Its format only: whether the agent accepts the network is an invariant it checks itself.
  d.environment_cidr = o.string("environment_cidr", 64);
  Cidr cidr;
  if (!d.environment_cidr.empty() && (!parse_canonical_cidr(d.environment_cidr, &cidr) || cidr.ipv6))
    throw Error::Invalid("invalid_value", "must be an IPv4 network in canonical form",
                         o.field("environment_cidr"));
  o.each("services", 1000, [&](const json& item, const std::string& path) {
    DesiredService ds = parse_desired_service(item, path);
    for (const auto& other : d.services)
      if (other.name == ds.name) throw Error::Invalid("invalid_value", "duplicate service", path + ".name");
    d.services.push_back(std::move(ds));
  });
  o.each("grants", kMaxGrants, [&](const json& item, const std::string& path) {
    DesiredGrant g = parse_desired_grant(item, path);
    for (const auto& other : d.grants)
      if (other.request_id == g.request_id) throw Error::Invalid("invalid_value", "duplicate grant", path);
    d.grants.push_back(std::move(g));
  });
  return d;
}

DesiredGrant parse_desired_grant(const json& item, const std::string& path) {
  StrictObject o(item, path,
                 {"request_id", "requester", "scope", "csr_pem", "duration_seconds", "not_before", "not_after",
                  "approve_before", "required_approvals", "reviews", "customer_approval"});
  DesiredGrant g;
  g.request_id = o.string("request_id", 32);
  static const std::regex id("acc-[0-9a-f]{16}");
  if (!std::regex_match(g.request_id, id)) throw Error::Invalid("invalid_value", "must be acc-<16 hex>", o.field("request_id"));
  g.requester = printable(o, "requester", 256);
  g.scope = o.enumerated("scope", access_scopes());
  g.csr_pem = o.string("csr_pem", 16384);
  if (g.csr_pem.find("-----BEGIN CERTIFICATE REQUEST-----") != 0)
    throw Error::Invalid("invalid_value", "must be one PEM certificate request", o.field("csr_pem"));
  g.duration_seconds = o.integer("duration_seconds", 0, 1, kMaxInt);
  g.not_before = o.integer("not_before", 0, 0, kMaxInt);
  g.not_after = o.integer("not_after", 0, 0, kMaxInt);
  if (g.not_after <= g.not_before) throw Error::Invalid("invalid_value", "must be after not_before", o.field("not_after"));
  g.approve_before = o.integer("approve_before", 0, 0, kMaxInt);
  g.required_approvals = static_cast<int>(o.integer("required_approvals", 1, 1, 3));
  o.each("reviews", 16, [&](const json& review, const std::string& review_path) {
    StrictObject r(review, review_path, {"reviewer", "role", "decision", "time"});
    g.reviews.push_back({printable(r, "reviewer", 256), r.enumerated("role", {"approver", "customer"}),
                         r.enumerated("decision", {"approve", "deny"}), r.integer("time", 0, 0, kMaxInt)});
  });
  g.customer_approval = o.string("customer_approval", 16384);
  return g;
}

DesiredService parse_desired_service(const json& item, const std::string& path) {
  StrictObject s(item, path,
                 {"name", "clickhouse_version", "shards", "replicas", "cpu_millis", "memory_mib", "allowed_ips",
                  "default_password_sha256_hex", "support", "cluster_hosts", "rollout", "profile"});
  DesiredService ds;
  ds.name = checked_name(s, "name");
  ds.clickhouse_version = s.string("clickhouse_version", 32);
  ds.shards = static_cast<int>(s.integer("shards", 1, 1, 64));
  ds.replicas = static_cast<int>(s.integer("replicas", 1, 1, 16));
  ds.cpu_millis = static_cast<int>(s.integer("cpu_millis", 1000, 1, 1'000'000));
  ds.memory_mib = static_cast<int>(s.integer("memory_mib", 2048, 1, 10'000'000));
  s.each("allowed_ips", 64, [&](const json& ip, const std::string& ip_path) {
    if (!ip.is_string()) throw Error::Invalid("invalid_value", "must be a string", ip_path);
    check_allowed_ip(ip.get<std::string>(), ip_path);
    ds.allowed_ips.push_back(ip.get<std::string>());
  });
  ds.default_password_sha256_hex = s.string("default_password_sha256_hex", 64);
  if (!std::regex_match(ds.default_password_sha256_hex, hex64()))
    throw Error::Invalid("invalid_value", "must be 64 lowercase hex digits", s.field("default_password_sha256_hex"));
  if (const json* support = s.find("support")) ds.support = parse_support(*support, s.field("support"));
  s.each("cluster_hosts", 64 * 16, [&](const json& host, const std::string& host_path) {
    if (!host.is_string() || !is_host(host.get<std::string>()))
      throw Error::Invalid("invalid_value", "must be an IP address or a DNS name", host_path);
    ds.cluster_hosts.push_back(host.get<std::string>());
  });
  if (const json* rollout = s.find("rollout")) ds.rollout = parse_rollout(*rollout, s.field("rollout"));
  ds.profile = s.string("profile", 64);
  static const std::regex profile(R"(host|[a-z0-9]+(\.[a-z0-9]+)+)");
  if (!ds.profile.empty() && !std::regex_match(ds.profile, profile))
    throw Error::Invalid("invalid_value", "must be an instance type (like m7gd.large) or host", s.field("profile"));
  return ds;
}

}  // namespace byoc::model
