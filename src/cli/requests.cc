#include "cli/requests.h"

#include <arpa/inet.h>

#include <charconv>

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

json environment_create_body(const EnvironmentCreateArgs& args) {
  json body = {{"name", args.name}, {"cloud", args.cloud}, {"cidr", args.cidr}};
  if (!args.region.empty()) body["region"] = args.region;
  if (!args.zones.empty()) body["zones"] = args.zones;
  if (!args.instance_types.empty()) body["instance_types"] = args.instance_types;
  json daemonsets = json::object();
  if (args.daemonset_cpu_millis) daemonsets["cpu_millis"] = *args.daemonset_cpu_millis;
  if (args.daemonset_memory_mib) daemonsets["memory_mib"] = *args.daemonset_memory_mib;
  if (!daemonsets.empty()) body["daemonsets"] = daemonsets;
  return body;
}

json environment_update_body(const EnvironmentUpdateArgs& args) {
  json body = json::object();
  if (args.instance_types) body["instance_types"] = *args.instance_types;
  json daemonsets = json::object();
  if (args.daemonset_cpu_millis) daemonsets["cpu_millis"] = *args.daemonset_cpu_millis;
  if (args.daemonset_memory_mib) daemonsets["memory_mib"] = *args.daemonset_memory_mib;
  if (!daemonsets.empty()) body["daemonsets"] = daemonsets;
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
