// The sync exchange: what agents report up (the telemetry allowlist) and
// the plane's answer, to_json and the strict parsers.
#include "model/protocol.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/crypto.h"
#include "base/error.h"
#include "model/access.h"
#include "model/protocol_fields.h"
#include "model/validate.h"

namespace byoc::model {
using nlohmann::json;
using namespace protocol_fields;

namespace {

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
  ReportedRollout r;
  r.id = o.string("id", 64);
  if (!std::regex_match(r.id, rollout_id()))
    throw Error::Invalid("invalid_value", "must be 1-64 of A-Z a-z 0-9 . _ -", o.field("id"));
  r.state = o.enumerated("state", rollout_states());
  r.replicas_total = static_cast<int>(o.integer("replicas_total", 0, 0, 64 * 16));
  r.replicas_done = static_cast<int>(o.integer("replicas_done", 0, 0, r.replicas_total));
  r.failed_shard = static_cast<int>(o.integer("failed_shard", 0, 0, 64));
  r.failed_replica = static_cast<int>(o.integer("failed_replica", 0, 0, 16));
  r.failed_check = o.enumerated("failed_check", rollout_checks());
  return r;
}

}  // namespace

json to_json(const UsageInterval& u) {
  return {{"seq", u.seq},
          {"service", u.service},
          {"shard", u.shard},
          {"replica", u.replica},
          {"start", u.start},
          {"end", u.end},
          {"cpu_millis_seconds", u.cpu_millis_seconds},
          {"memory_mib_seconds", u.memory_mib_seconds}};
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
  for (const auto& u : r.usage) usage.push_back(to_json(u));
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
