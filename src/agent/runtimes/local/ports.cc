#include "agent/runtimes/local/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"
#include "base/process.h"

namespace byoc::agent::local {
namespace {

int port_field(const nlohmann::json& j, const char* name) {
  int port = j.at(name).get<int>();
  if (port < 0 || port > 65535) throw Error::Internal(std::string("port out of range: ") + name);
  return port;
}

}  // namespace

std::optional<ServicePorts> load_ports(const std::filesystem::path& file) {
  auto text = files::read_if_exists(file);
  if (!text) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(*text);
    ServicePorts ports;
    ports.https = port_field(j, "https");
    ports.native_tls = j.contains("native_tls") ? port_field(j, "native_tls") : 0;
    ports.support = j.contains("support") ? port_field(j, "support") : 0;
    for (const auto& [name, r] : j.at("replicas").items())
      ports.replicas[name] =
          ReplicaPorts{port_field(r, "http"), port_field(r, "tcp"), port_field(r, "interserver")};
    return ports;
  } catch (const nlohmann::json::exception& e) {
    throw Error::Internal("malformed " + file.string() + ": " + e.what());
  }
}

void save_ports(const std::filesystem::path& file, const ServicePorts& ports) {
  nlohmann::json j;
  j["https"] = ports.https;
  j["native_tls"] = ports.native_tls;
  j["support"] = ports.support;
  j["replicas"] = nlohmann::json::object();
  for (const auto& [name, r] : ports.replicas)
    j["replicas"][name] = {{"http", r.http}, {"tcp", r.tcp}, {"interserver", r.interserver}};
  files::write_atomic(file, j.dump(2) + "\n", 0600);
}

std::set<int> all_ports(const ServicePorts& ports) {
  std::set<int> out;
  for (int p : {ports.https, ports.native_tls, ports.support})
    if (p) out.insert(p);
  for (const auto& [name, r] : ports.replicas)
    for (int p : {r.http, r.tcp, r.interserver})
      if (p) out.insert(p);
  return out;
}

bool port_bindable(int port) {
  if (port <= 0 || port > 65535) return false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int pick_port(std::set<int>& taken) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int port = proc::pick_free_port();
    if (taken.insert(port).second) return port;
  }
  throw Error::Conflict("no_free_port", "no free port found on 127.0.0.1");
}

}  // namespace byoc::agent::local
