#include "cli/requests.h"

#include <arpa/inet.h>

#include <charconv>
#include <climits>

#include "base/clock.h"
#include "base/error.h"
#include "cli/api_client.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

// Parses the "/n" part; returns -1 if it is not a plain decimal in range.
int prefix_length(const std::string& text, size_t slash, int max) {
  std::string digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return -1;
  int value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value < 0 || value > max) return -1;
  return value;
}

}  // namespace

namespace {
json account_body(const std::string& account_id, const std::string& role_name) {
  json account = json::object();
  if (!account_id.empty()) account["account_id"] = account_id;
  if (!role_name.empty()) account["role_name"] = role_name;
  return account;
}
}  // namespace

json environment_create_body(const EnvironmentCreateArgs& args) {
  json body = {{"name", args.name}, {"cloud", args.cloud}, {"cidr", args.cidr}};
  if (!args.region.empty()) body["region"] = args.region;
  if (!args.zones.empty()) body["zones"] = args.zones;
  if (!args.instance_types.empty()) body["instance_types"] = args.instance_types;
  json daemonsets = json::object();
  if (args.daemonset_cpu_millis) daemonsets["cpu_millis"] = *args.daemonset_cpu_millis;
  if (args.daemonset_memory_mib) daemonsets["memory_mib"] = *args.daemonset_memory_mib;
  if (!daemonsets.empty()) body["daemonsets"] = daemonsets;
  if (json account = account_body(args.account_id, args.role_name); !account.empty()) body["account"] = account;
  return body;
}

json environment_update_body(const EnvironmentUpdateArgs& args) {
  json body = json::object();
  if (args.instance_types) body["instance_types"] = *args.instance_types;
  json daemonsets = json::object();
  if (args.daemonset_cpu_millis) daemonsets["cpu_millis"] = *args.daemonset_cpu_millis;
  if (args.daemonset_memory_mib) daemonsets["memory_mib"] = *args.daemonset_memory_mib;
  if (!daemonsets.empty()) body["daemonsets"] = daemonsets;
  if (json account = account_body(args.account_id, args.role_name); !account.empty()) body["account"] = account;
  return body;
}

json service_create_body(const ServiceCreateArgs& args) {
  json body = {{"name", args.name}};
  if (args.clickhouse_version) body["clickhouse_version"] = *args.clickhouse_version;
  if (args.shards) body["shards"] = *args.shards;
  if (args.replicas) body["replicas"] = *args.replicas;
  if (args.cpu_millis) body["cpu_millis"] = *args.cpu_millis;
  if (args.memory_mib) body["memory_mib"] = *args.memory_mib;
  if (args.allowed_ips) body["allowed_ips"] = *args.allowed_ips;
  if (args.profile) body["profile"] = *args.profile;
  return body;
}

json service_update_body(const ServiceUpdateArgs& args) {
  json body = json::object();
  if (args.allowed_ips) body["allowed_ips"] = *args.allowed_ips;
  if (args.profile) body["profile"] = *args.profile;
  if (args.cpu_millis) body["cpu_millis"] = *args.cpu_millis;
  if (args.memory_mib) body["memory_mib"] = *args.memory_mib;
  if (args.replicas) body["replicas"] = *args.replicas;
  if (args.when) body["when"] = *args.when;
  return body;
}

json token_create_body(const TokenCreateArgs& args) {
  json body = {{"role", args.role}};
  if (!args.organization.empty()) body["organization"] = args.organization;
  if (!args.subject.empty()) body["subject"] = args.subject;
  return body;
}

json organization_create_body(const std::string& name) { return {{"name", name}}; }

std::string environment_path(const std::string& environment) {
  return "/v1/environments" + (environment.empty() ? "" : "/" + path_segment(environment));
}

std::string service_path(const std::string& environment, const std::string& service) {
  return environment_path(environment) + "/services" + (service.empty() ? "" : "/" + path_segment(service));
}

std::string profiles_path(const std::string& environment) {
  return environment_path(environment) + "/profiles";
}

std::string token_path(const std::string& id) {
  return "/v1/tokens" + (id.empty() ? "" : "/" + path_segment(id));
}

std::string with_query(const std::string& path, const std::string& name, const std::string& value) {
  if (value.empty()) return path;
  return path + (path.find('?') == std::string::npos ? "?" : "&") + path_segment(name) + "=" +
         path_segment(value);
}

std::string with_organization(const std::string& path, const std::string& organization) {
  return with_query(path, "organization", organization);
}

json access_request_body(const AccessRequestArgs& args) {
  return {{"scope", args.scope},
          {"reason", args.reason},
          {"duration_seconds", args.duration_seconds},
          {"csr", args.csr_pem}};
}

json access_review_body(const std::string& decision, const std::string& reason, const std::string& customer_approval) {
  json body = {{"decision", decision}, {"reason", reason}};
  if (!customer_approval.empty()) body["customer_approval"] = customer_approval;
  return body;
}

std::string access_requests_path(const std::string& environment) {
  return environment_path(environment) + "/access-requests";
}

std::string access_request_path(const std::string& id, const std::string& action) {
  return "/v1/access-requests/" + path_segment(id) + (action.empty() ? "" : "/" + action);
}

bool valid_access_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<int64_t> parse_duration_seconds(std::string_view text) {
  constexpr int64_t kMax = INT32_MAX;   // what the API's duration_seconds takes
  constexpr int64_t kBareMinimum = 60;  // a bare "2" is more likely 2h than 2s
  auto digits_end = [&](size_t from) {
    while (from < text.size() && text[from] >= '0' && text[from] <= '9') ++from;
    return from;
  };
  auto number = [&](size_t from, size_t to) -> std::optional<int64_t> {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + from, text.data() + to, value);
    if (ec != std::errc() || end != text.data() + to || value > kMax) return std::nullopt;
    return value;
  };
  if (text.empty()) return std::nullopt;
  if (digits_end(0) == text.size()) {
    auto seconds = number(0, text.size());
    if (!seconds || *seconds < kBareMinimum) return std::nullopt;
    return seconds;
  }
  int64_t total = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = digits_end(at);
    if (end == at || end == text.size()) return std::nullopt;  // a term is digits then a unit
    auto value = number(at, end);
    if (!value) return std::nullopt;
    int64_t unit = text[end] == 'h' ? 3600 : text[end] == 'm' ? 60 : text[end] == 's' ? 1 : 0;
    if (unit == 0) return std::nullopt;
    total += *value * unit;  // each term ≤ kMax·3600 and total ≤ kMax before it: no overflow
    if (total > kMax) return std::nullopt;
    at = end + 1;
  }
  if (total == 0) return std::nullopt;
  return total;
}

std::string format_duration_seconds(int64_t seconds) {
  if (seconds <= 0) return std::to_string(seconds) + "s";
  std::string out;
  if (seconds >= 3600) out += std::to_string(seconds / 3600) + "h";
  if (seconds % 3600 >= 60) out += std::to_string(seconds % 3600 / 60) + "m";
  if (seconds % 60 != 0) out += std::to_string(seconds % 60) + "s";
  return out;
}

model::AccessRequest approval_subject(const json& request) {
  auto text = [&](const char* key) {
    if (!request.is_object() || !request.contains(key) || !request[key].is_string() ||
        request[key].get<std::string>().empty())
      throw Error::Internal(std::string("the server's access request has no `") + key + "`");
    return request[key].get<std::string>();
  };
  model::AccessRequest r;
  r.id = text("id");
  r.environment_id = text("environment_id");
  r.scope = text("scope");
  r.requester = text("requester");
  r.csr_public_key_sha256 = text("csr_public_key_sha256");
  if (!request.contains("duration_seconds") || !request["duration_seconds"].is_number_integer())
    throw Error::Internal("the server's access request has no `duration_seconds`");
  r.duration_seconds = request["duration_seconds"].get<int64_t>();
  // Only a request awaiting review has a deadline (and can be approved).
  auto deadline = request.contains("expires_at") && request["expires_at"].is_string()
                      ? parse_rfc3339(request["expires_at"].get<std::string>())
                      : std::nullopt;
  if (!deadline) throw Error::Conflict("not_pending", "access request " + r.id + " is not awaiting review", "state");
  r.expires_at = *deadline;
  return r;
}

std::string ipv4_cidr_syntax_error(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return "`" + text + "` is not a CIDR (want a.b.c.d/n)";
  in_addr address{};
  // inet_pton accepts exactly dotted-quad decimal for AF_INET (no octal, no short forms).
  if (inet_pton(AF_INET, text.substr(0, slash).c_str(), &address) != 1)
    return "`" + text + "` is not a CIDR: `" + text.substr(0, slash) + "` is not an IPv4 address";
  if (prefix_length(text, slash, 32) < 0)
    return "`" + text + "` is not a CIDR: the prefix length must be 0-32";
  return "";
}

std::string ip_cidr_syntax_error(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return "`" + text + "` is not a CIDR (want ADDRESS/PREFIX)";
  std::string address = text.substr(0, slash);
  unsigned char buffer[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), buffer) == 1)
    return prefix_length(text, slash, 32) < 0 ? "`" + text + "` is not a CIDR: the prefix length must be 0-32"
                                              : "";
  if (inet_pton(AF_INET6, address.c_str(), buffer) == 1)
    return prefix_length(text, slash, 128) < 0
               ? "`" + text + "` is not a CIDR: the prefix length must be 0-128"
               : "";
  return "`" + text + "` is not a CIDR: `" + address + "` is not an IP address";
}

}  // namespace byoc::cli
