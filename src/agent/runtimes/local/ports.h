// The TCP ports of one service: picked once, persisted in ports.json, reused on
// every later start so the endpoint URL and the cluster definition stay put.
// A port is re-picked only when something else holds it at start time (the
// runtime's bind-conflict retry). Not thread-safe (the runtime serialises).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace byoc::agent::local {

struct ReplicaPorts {
  int http = 0;
  int tcp = 0;
  int interserver = 0;
  bool operator==(const ReplicaPorts&) const = default;
};

struct ServicePorts {
  int https = 0;                                 // the endpoint (nginx, HTTPS)
  int native_tls = 0;                            // the endpoint (nginx stream, native protocol over TLS)
  int support = 0;                               // the support gateway (nginx, HTTPS with client certificates)
  std::map<std::string, ReplicaPorts> replicas;  // by replica name ("s1r1")
  bool operator==(const ServicePorts&) const = default;
};

// nullopt when the file is missing; throws byoc::Error (internal) when it is
// unreadable or malformed.
std::optional<ServicePorts> load_ports(const std::filesystem::path& file);
void save_ports(const std::filesystem::path& file, const ServicePorts& ports);

// Every port the service uses (0s excluded).
std::set<int> all_ports(const ServicePorts& ports);

// Could a server bind 127.0.0.1:port now? Probed the way ClickHouse and nginx
// bind (SO_REUSEADDR), so a port with only TIME_WAIT leftovers counts as free.
bool port_bindable(int port);

// A free port not in `taken`; adds it to `taken`. Throws byoc::Error
// kConflict "no_free_port" when none can be found.
int pick_port(std::set<int>& taken);

}  // namespace byoc::agent::local
