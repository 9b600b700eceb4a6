// What the resource commands send: request bodies built from parsed flags,
// and the syntax checks the CLI does itself before any request (so a typo is
// a usage error with exit code 2, with no server needed). Semantic rules
// (RFC 1918, prefix length, known zones) stay with the server, which owns them.
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace byoc::cli {

struct EnvironmentCreateArgs {
  std::string name;
  std::string cloud;
  std::string cidr;
  std::string region;              // empty: the server's default for the cloud
  std::vector<std::string> zones;  // empty: the server's default
};

struct ServiceCreateArgs {
  std::string name;
  std::optional<std::string> clickhouse_version;
  std::optional<int> shards;
  std::optional<int> replicas;
  std::optional<int> cpu_millis;
  std::optional<int> memory_mib;
  std::optional<std::vector<std::string>> allowed_ips;
};

// Only the fields the user gave: defaults are the server's business.
nlohmann::json environment_create_body(const EnvironmentCreateArgs& args);
nlohmann::json service_create_body(const ServiceCreateArgs& args);

// "" if `text` is an IPv4 CIDR (a.b.c.d/n, octets 0-255, n 0-32), else why not.
std::string ipv4_cidr_syntax_error(const std::string& text);
// "" if `text` is an IPv4 or IPv6 address with a /prefix, else why not.
std::string ip_cidr_syntax_error(const std::string& text);

}  // namespace byoc::cli
