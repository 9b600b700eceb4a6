#include "model/protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/crypto.h"
#include "base/error.h"
#include "model/access.h"
#include "model/validate.h"

namespace byoc::model {
using nlohmann::json;

const std::vector<std::string>& replica_states() {
  static const std::vector<std::string> v = {"STARTING", "RUNNING", "RESTARTING", "FAILED", "STOPPED"};
  return v;
}
const std::vector<std::string>& service_states() {
  static const std::vector<std::string> v = {"PROVISIONING", "READY", "FAILED", "DELETING"};
  return v;
}
const std::vector<std::string>& reason_codes() {
  static const std::vector<std::string> v = {"",
                                             "starting",
                                             "replica_failed",
                                             "endpoint_unreachable",
                                             "apply_failed",
                                             "unsupported_topology",
                                             "unsupported_version",
                                             "invariant_violation",
                                             "policy_violation",
                                             "endpoint_failed",
                                             "restarting",
                                             "stopped",
                                             "incomplete",
                                             "rolling",
                                             "rollout_waiting",
                                             "rollout_failed",
                                             "unknown"};
  return v;
}

const std::vector<std::string>& rollout_states() {
  static const std::vector<std::string> v = {"rolling", "waiting", "done", "failed"};
  return v;
}

const std::vector<std::string>& rollout_checks() {
  static const std::vector<std::string> v = {"", "start", "ping", "replication_queue", "cluster", "version_unknown"};
  return v;
}

const std::vector<std::string>& grant_refusal_codes() {
  static const std::vector<std::string> all = {
      "support_access_off", "customer_approval_missing", "customer_approval_invalid", "duration_too_long",
      "approvals_missing",  "bad_csr",                   "grant_expired",             "scope_unsupported",
      "audit_inconsistent", "scope_not_allowed"};
  return all;
}

const std::vector<std::string>& gateway_denial_codes() {
  static const std::vector<std::string> all = {
      "no_certificate",        "certificate_expired", "certificate_not_yet_valid", "certificate_revoked",
      "certificate_untrusted", "crl_stale",           "grant_inactive",            "credentials_supplied",
      "scope_mismatch"};
  return all;
}

bool is_kube_request_text(const std::string& text, size_t max) {
  if (text.size() > max) return false;
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

namespace {

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

constexpr int64_t kMaxInt = int64_t{1} << 53;

std::string checked_name(const StrictObject& o, const std::string& key) {
  std::string name = o.string(key);
  if (!is_dns1123_label(name)) throw Error::Invalid("invalid_value", "not a DNS-1123 label", o.field(key));
  return name;
}

std::string checked_endpoint(const StrictObject& o, const std::string& key) {
  std::string e = o.string(key);
  const bool https = key != "native_endpoint";
  bool ok = https ? is_https_endpoint(e) : is_native_endpoint(e);
  if (!e.empty() && !ok)
    throw Error::Invalid("invalid_value", https ? "must be https://HOST:PORT" : "must be HOST:PORT", o.field(key));
  return e;
}

// Text meant for people (a subject): no control characters.
std::string printable(const StrictObject& o, const std::string& key, size_t max_length) {
  std::string s = o.string(key, max_length);
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) throw Error::Invalid("invalid_value", "must not hold control characters", o.field(key));
  return s;
}

// One public PEM certificate, or "" when absent.
std::string certificate(const StrictObject& o, const std::string& key) {
  std::string pem = o.string(key, 16384);
  if (!pem.empty() && (pem.find("-----BEGIN CERTIFICATE-----") != 0 || pem.find("PRIVATE") != std::string::npos))
    throw Error::Invalid("invalid_value", "must be one PEM certificate", o.field(key));
  return pem;
}

// A list of management-plane URLs, each https://HOST:PORT, no repeats.
std::vector<std::string> parse_plane_servers(const StrictObject& o, const std::string& key) {
  std::vector<std::string> out;
  o.each(key, kMaxPlaneServers, [&](const json& url, const std::string& path) {
    if (!url.is_string() || !is_https_endpoint(url.get<std::string>()))
      throw Error::Invalid("invalid_value", "must be https://HOST:PORT", path);
    if (std::find(out.begin(), out.end(), url.get<std::string>()) != out.end())
      throw Error::Invalid("invalid_value", "listed twice", path);
    out.push_back(url.get<std::string>());
  });
  return out;
}

const std::regex& hex64() {
  static const std::regex re("[0-9a-f]{64}");
  return re;
}

// An IPv4/IPv6 literal or a lowercase DNS name; no port, no scheme.
bool is_host(const std::string& host) {
  static const std::regex name(
      R"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)");
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1) return true;
  return host.size() <= 253 && std::regex_match(host, name);
}

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

// A certificate serial as the gateways normalize it, or "".
std::string checked_serial(const StrictObject& o, const std::string& key) {
  std::string serial = o.string(key, 64);
  static const std::regex normalized("[1-9a-f][0-9a-f]{0,63}");
  if (!serial.empty() && !std::regex_match(serial, normalized))
    throw Error::Invalid("invalid_value", "must be lowercase hex without leading zeros", o.field(key));
  return serial;
}

KubeRequest parse_kube_request(const json& item, const std::string& path) {
  StrictObject k(item, path,
                 {"seq", "request_id", "serial", "verb", "api_group", "resource", "subresource", "namespace", "name",
                  "path", "decision", "status", "count", "first", "last"});
  auto text = [&](const char* key, size_t max) {
    std::string value = k.string(key, max);
    if (!is_kube_request_text(value, max))
      throw Error::Invalid("invalid_value", "must be printable ASCII without spaces", k.field(key));
    return value;
  };
  KubeRequest kr;
  kr.seq = k.integer("seq", 0, 1, kMaxInt);
  kr.request_id = k.string("request_id", 32);
  static const std::regex id("acc-[0-9a-f]{16}");
  if (!kr.request_id.empty() && !std::regex_match(kr.request_id, id))
    throw Error::Invalid("invalid_value", "must be acc-<16 hex>", k.field("request_id"));
  kr.serial = checked_serial(k, "serial");
  kr.verb = text("verb", 32);
  kr.api_group = text("api_group", kMaxKubeRequestText);
  kr.resource = text("resource", kMaxKubeRequestText);
  kr.subresource = text("subresource", kMaxKubeRequestText);
  kr.namespace_name = text("namespace", kMaxKubeRequestText);
  kr.name = text("name", kMaxKubeRequestText);
  kr.path = text("path", kMaxKubeRequestPath);
  kr.decision = k.string("decision", 64);
  static const std::regex decision("[a-z_]{1,64}");
  if (!std::regex_match(kr.decision, decision))
    throw Error::Invalid("invalid_value", "must be a decision code", k.field("decision"));
  kr.status = static_cast<int>(k.integer("status", 0, 0, 599));
  kr.count = k.integer("count", 0, 1, kMaxInt);
  kr.first = k.integer("first", 0, 0, kMaxInt);
  kr.last = k.integer("last", 0, 0, kMaxInt);
  if (kr.last < kr.first) throw Error::Invalid("invalid_value", "last before first", k.field("last"));
  return kr;
}

ReportedRollout parse_reported_rollout(const json& j, const std::string& path) {
  StrictObject o(j, path,
                 {"id", "state", "replicas_done", "replicas_total", "failed_shard", "failed_replica", "failed_check"});
  static const std::regex id("[A-Za-z0-9._-]{1,64}");
  ReportedRollout r;
  r.id = o.string("id", 64);
  if (!std::regex_match(r.id, id))
    throw Error::Invalid("invalid_value", "must be 1-64 of A-Z a-z 0-9 . _ -", o.field("id"));
  r.state = o.enumerated("state", rollout_states());
  r.replicas_total = static_cast<int>(o.integer("replicas_total", 0, 0, 64 * 16));
  r.replicas_done = static_cast<int>(o.integer("replicas_done", 0, 0, r.replicas_total));
  r.failed_shard = static_cast<int>(o.integer("failed_shard", 0, 0, 64));
  r.failed_replica = static_cast<int>(o.integer("failed_replica", 0, 0, 16));
  r.failed_check = o.enumerated("failed_check", rollout_checks());
  return r;
}

RolloutRequest parse_rollout(const json& j, const std::string& path) {
  StrictObject o(j, path, {"id", "max_unavailable", "not_after"});
  static const std::regex id("[A-Za-z0-9._-]{1,64}");
  for (const char* key : {"id", "max_unavailable"})
    if (!o.find(key)) throw Error::Invalid("invalid_value", "is required", o.field(key));
  RolloutRequest r;
  r.id = o.string("id", 64);
  if (!std::regex_match(r.id, id))
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

bool is_native_endpoint(const std::string& s) {
  static const std::regex re(R"([a-z0-9.:\[\]-]{1,100}:[0-9]{1,5})");
  return std::regex_match(s, re);
}

bool is_https_endpoint(const std::string& s) {
  return s.rfind("https://", 0) == 0 && is_native_endpoint(s.substr(8));
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

json to_json(const SyncRequest& r) {
  json services = json::array();
  for (const auto& s : r.status.services) {
    json replicas = json::array();
    for (const auto& rep : s.replicas)
      replicas.push_back({{"shard", rep.shard},
                          {"replica", rep.replica},
                          {"state", rep.state},
                          {"last_error_code", rep.last_error_code}});
    services.push_back({{"name", s.name},
                        {"state", s.state},
                        {"reason", s.reason},
                        {"endpoint", s.endpoint},
                        {"native_endpoint", s.native_endpoint},
                        {"replicas", replicas}});
    if (!s.support_gateway.empty() && r.protocol_version >= kGatewayProtocolVersion)
      services.back()["support_gateway"] = s.support_gateway;
    if (s.rollout && r.protocol_version >= kRolloutProtocolVersion)
      services.back()["rollout"] = {{"id", s.rollout->id},
                                    {"state", s.rollout->state},
                                    {"replicas_done", s.rollout->replicas_done},
                                    {"replicas_total", s.rollout->replicas_total},
                                    {"failed_shard", s.rollout->failed_shard},
                                    {"failed_replica", s.rollout->failed_replica},
                                    {"failed_check", s.rollout->failed_check}};
  }
  json usage = json::array();
  for (const auto& u : r.usage)
    usage.push_back({{"seq", u.seq},
                     {"service", u.service},
                     {"shard", u.shard},
                     {"replica", u.replica},
                     {"start", u.start},
                     {"end", u.end},
                     {"cpu_millis_seconds", u.cpu_millis_seconds},
                     {"memory_mib_seconds", u.memory_mib_seconds}});
  json status = {{"applied_revision", r.status.applied_revision},
                 {"services", services},
                 {"environment_ca_pem", r.status.environment_ca_pem}};
  if (r.status.host)
    status["host"] = {{"cores", r.status.host->cores}, {"memory_mib", r.status.host->memory_mib}};
  if (r.status.access) {
    status["access"] = {{"support_access", r.status.access->support_access},
                        {"customer_approval_required", r.status.access->customer_approval_required},
                        {"max_grant_seconds", r.status.access->max_grant_seconds}};
    if (r.status.access->scopes && r.protocol_version >= kKubernetesAccessProtocolVersion)
      status["access"]["scopes"] = *r.status.access->scopes;
  }
  if (!r.status.support_ca_pem.empty()) status["support_ca_pem"] = r.status.support_ca_pem;
  if (!r.status.audit.empty()) status["audit"] = r.status.audit;
  if (!r.status.grants.empty()) {
    json grants = json::array();
    for (const auto& g : r.status.grants)
      grants.push_back({{"request_id", g.request_id},
                        {"state", g.state},
                        {"serial", g.serial},
                        {"certificate_pem", g.certificate_pem},
                        {"reason", g.reason}});
    status["grants"] = grants;
  }
  json out = {{"protocol_version", r.protocol_version},
              {"known_revision", r.known_revision},
              {"seq", r.seq},
              {"status", status},
              {"usage", usage}};
  if (r.protocol_version >= kGrantsProtocolVersion) out["known_audit_size"] = r.known_audit_size;
  if (!r.gateway_denials.empty() && r.protocol_version >= kGatewayProtocolVersion) {
    json denials = json::array();
    for (const auto& d : r.gateway_denials)
      denials.push_back({{"seq", d.seq},
                         {"service", d.service},
                         {"reason", d.reason},
                         {"serial", d.serial},
                         {"count", d.count},
                         {"first", d.first},
                         {"last", d.last}});
    out["gateway_denials"] = denials;
  }
  if (!r.kube_requests.empty() && r.protocol_version >= kKubernetesAccessProtocolVersion) {
    json requests = json::array();
    for (const auto& k : r.kube_requests)
      requests.push_back({{"seq", k.seq},
                          {"request_id", k.request_id},
                          {"serial", k.serial},
                          {"verb", k.verb},
                          {"api_group", k.api_group},
                          {"resource", k.resource},
                          {"subresource", k.subresource},
                          {"namespace", k.namespace_name},
                          {"name", k.name},
                          {"path", k.path},
                          {"decision", k.decision},
                          {"status", k.status},
                          {"count", k.count},
                          {"first", k.first},
                          {"last", k.last}});
    out["kube_requests"] = requests;
  }
  return out;
}

json to_json(const SyncResponse& r) {
  json out = {{"revision", r.revision}, {"usage_acked_seq", r.usage_acked_seq}};
  if (r.denials_acked_seq > 0) out["denials_acked_seq"] = r.denials_acked_seq;
  if (r.kube_requests_acked_seq > 0) out["kube_requests_acked_seq"] = r.kube_requests_acked_seq;
  if (r.desired) out["desired"] = to_json(*r.desired);
  if (!r.servers.empty()) out["servers"] = r.servers;
  if (r.audit) {
    json hashes = json::array();
    for (const auto& h : r.audit->consistency) hashes.push_back(crypto::base64(h));
    out["audit"] = {{"key", r.audit->key}, {"checkpoint", r.audit->checkpoint}, {"consistency", hashes}};
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

SyncRequest parse_sync_request(const json& j) {
  StrictObject o(j, "",
                 {"protocol_version", "known_revision", "seq", "status", "usage", "known_audit_size", "gateway_denials",
                  "kube_requests"});
  SyncRequest r;
  r.protocol_version = static_cast<int>(o.integer("protocol_version", 0, 0, 1000));
  if (r.protocol_version < kOldestProtocolVersion || r.protocol_version > kProtocolVersion)
    throw Error::Invalid("unsupported_protocol",
                         "protocol_version must be " + std::to_string(kOldestProtocolVersion) + " to " +
                             std::to_string(kProtocolVersion),
                         "protocol_version");
  r.known_revision = o.integer("known_revision", 0, 0, kMaxInt);
  r.known_audit_size = o.integer("known_audit_size", 0, 0, kMaxInt);
  r.seq = o.integer("seq", 0, 0, kMaxInt);
  if (const json* status = o.find("status")) {
    StrictObject st(*status, "status",
                    {"applied_revision", "services", "environment_ca_pem", "host", "access", "support_ca_pem",
                     "grants", "audit"});
    if (st.find("audit")) r.status.audit = st.enumerated("audit", {"consistent", "inconsistent"});
    r.status.applied_revision = st.integer("applied_revision", 0, 0, kMaxInt);
    r.status.environment_ca_pem = certificate(st, "environment_ca_pem");
    r.status.support_ca_pem = certificate(st, "support_ca_pem");
    if (const json* access = st.find("access")) {
      StrictObject a(*access, st.field("access"),
                     {"support_access", "customer_approval_required", "max_grant_seconds", "scopes"});
      r.status.access = ReportedAccessPolicy{a.boolean("support_access", true),
                                             a.boolean("customer_approval_required", true),
                                             a.integer("max_grant_seconds", 0, 0, 365 * 24 * 3600),
                                             std::nullopt};
      if (a.find("scopes")) {
        std::vector<std::string> scopes;
        a.each("scopes", access_scopes().size(), [&](const json& scope, const std::string& path) {
          if (!scope.is_string() || !is_access_scope(scope.get<std::string>()))
            throw Error::Invalid("invalid_value", "not an access scope", path);
          if (std::find(scopes.begin(), scopes.end(), scope.get<std::string>()) != scopes.end())
            throw Error::Invalid("invalid_value", "listed twice", path);
          scopes.push_back(scope.get<std::string>());
        });
        r.status.access->scopes = std::move(scopes);
      }
    }
    st.each("grants", kMaxGrants, [&](const json& item, const std::string& path) {
      StrictObject g(item, path, {"request_id", "state", "serial", "certificate_pem", "reason"});
      ReportedGrant rg;
      rg.request_id = g.string("request_id", 32);
      rg.state = g.enumerated("state", {"issued", "refused"});
      rg.serial = g.string("serial", 64);
      static const std::regex serial("[0-9a-f]{1,64}");
      rg.certificate_pem = certificate(g, "certificate_pem");
      if (rg.state == "issued" && (rg.certificate_pem.empty() || !std::regex_match(rg.serial, serial)))
        throw Error::Invalid("invalid_value", "an issued grant carries its certificate and serial", path);
      rg.reason = rg.state == "refused" ? g.enumerated("reason", grant_refusal_codes()) : g.string("reason", 0);
      r.status.grants.push_back(std::move(rg));
    });
    if (const json* host = st.find("host")) {
      StrictObject h(*host, st.field("host"), {"cores", "memory_mib"});
      for (const char* key : {"cores", "memory_mib"})
        if (!h.find(key)) throw Error::Invalid("required", "field is required", h.field(key));
      // Bounds well past any machine (1,024 cores, 64 TiB).
      r.status.host = HostCapacity{static_cast<int>(h.integer("cores", 0, 1, 1024)),
                                   h.integer("memory_mib", 0, 1, int64_t{64} << 20)};
    }
    st.each("services", 1000, [&](const json& item, const std::string& path) {
      StrictObject s(item, path,
                     {"name", "state", "reason", "endpoint", "native_endpoint", "support_gateway", "replicas",
                      "rollout"});
      ReportedService rs;
      rs.name = checked_name(s, "name");
      rs.state = s.enumerated("state", service_states());
      rs.reason = s.enumerated("reason", reason_codes());
      rs.endpoint = checked_endpoint(s, "endpoint");
      rs.native_endpoint = checked_endpoint(s, "native_endpoint");
      rs.support_gateway = checked_endpoint(s, "support_gateway");
      s.each("replicas", 64 * 16, [&](const json& rep, const std::string& rep_path) {
        StrictObject rr(rep, rep_path, {"shard", "replica", "state", "last_error_code"});
        rs.replicas.push_back({static_cast<int>(rr.integer("shard", 1, 1, 64)),
                               static_cast<int>(rr.integer("replica", 1, 1, 16)),
                               rr.enumerated("state", replica_states()),
                               static_cast<int>(rr.integer("last_error_code", 0, 0, 100000))});
      });
      if (const json* rollout = s.find("rollout")) rs.rollout = parse_reported_rollout(*rollout, s.field("rollout"));
      r.status.services.push_back(std::move(rs));
    });
  }
  o.each("usage", 10000, [&](const json& item, const std::string& path) {
    StrictObject u(
        item, path,
        {"seq", "service", "shard", "replica", "start", "end", "cpu_millis_seconds", "memory_mib_seconds"});
    UsageInterval ui;
    ui.seq = u.integer("seq", 0, 1, kMaxInt);
    ui.service = checked_name(u, "service");
    ui.shard = static_cast<int>(u.integer("shard", 1, 1, 64));
    ui.replica = static_cast<int>(u.integer("replica", 1, 1, 16));
    ui.start = u.integer("start", 0, 0, kMaxInt);
    ui.end = u.integer("end", 0, 0, kMaxInt);
    if (ui.end < ui.start) throw Error::Invalid("invalid_value", "end before start", u.field("end"));
    ui.cpu_millis_seconds = u.integer("cpu_millis_seconds", 0, 0, kMaxInt);
    ui.memory_mib_seconds = u.integer("memory_mib_seconds", 0, 0, kMaxInt);
    r.usage.push_back(std::move(ui));
  });
  o.each("gateway_denials", kMaxGatewayDenials, [&](const json& item, const std::string& path) {
    StrictObject d(item, path, {"seq", "service", "reason", "serial", "count", "first", "last"});
    GatewayDenial gd;
    gd.seq = d.integer("seq", 0, 1, kMaxInt);
    gd.service = checked_name(d, "service");
    gd.reason = d.enumerated("reason", gateway_denial_codes());
    gd.serial = checked_serial(d, "serial");
    gd.count = d.integer("count", 0, 1, kMaxInt);
    gd.first = d.integer("first", 0, 0, kMaxInt);
    gd.last = d.integer("last", 0, 0, kMaxInt);
    if (gd.last < gd.first) throw Error::Invalid("invalid_value", "last before first", d.field("last"));
    r.gateway_denials.push_back(std::move(gd));
  });
  o.each("kube_requests", kMaxKubeRequests, [&](const json& item, const std::string& path) {
    r.kube_requests.push_back(parse_kube_request(item, path));
  });
  return r;
}

SyncResponse parse_sync_response(const json& j) {
  StrictObject o(j, "",
                 {"revision", "desired", "usage_acked_seq", "denials_acked_seq", "kube_requests_acked_seq", "servers",
                  "audit"});
  SyncResponse r;
  if (const json* audit = o.find("audit")) {
    StrictObject a(*audit, "audit", {"key", "checkpoint", "consistency"});
    AuditAnswer answer{a.string("key", 256), a.string("checkpoint", 4096), {}};
    a.each("consistency", 64, [&](const json& h, const std::string& path) {
      auto bytes = h.is_string() ? crypto::base64_decode(h.get<std::string>()) : std::nullopt;
      if (!bytes || bytes->size() != 32) throw Error::Invalid("invalid_value", "must be a base64 SHA-256 hash", path);
      answer.consistency.push_back(*bytes);
    });
    r.audit = std::move(answer);
  }
  r.revision = o.integer("revision", 0, 0, kMaxInt);
  r.usage_acked_seq = o.integer("usage_acked_seq", 0, 0, kMaxInt);
  r.denials_acked_seq = o.integer("denials_acked_seq", 0, 0, kMaxInt);
  r.kube_requests_acked_seq = o.integer("kube_requests_acked_seq", 0, 0, kMaxInt);
  if (const json* d = o.find("desired")) r.desired = parse_desired_state(*d);
  r.servers = parse_plane_servers(o, "servers");
  return r;
}

}  // namespace byoc::model
