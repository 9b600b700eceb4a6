// Integration-test support for the agent loop: a real `byoc server` with one
// `local` environment (its agent a real process), services created through
// the API, and queries through a service's endpoint from chosen loopback
// sources. Cleanup: the ServerProcess ends the server, its agents and every
// process naming its data dir; the caller's TempDir removes the files.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "../server/server_process.h"

namespace byoc::agent_loop {

struct ServiceAccess {
  std::string endpoint;  // https://127.0.0.1:PORT
  std::string password;  // of `default`, shown once at creation
  std::string ca_pem;    // the environment CA's certificate
};

class LocalEnvironment {
 public:
  // Starts a server on a free port under `scratch` and creates environment
  // `name` (cloud local), waiting until its agent has connected.
  LocalEnvironment(const std::filesystem::path& scratch, const std::string& name);

  test::ServerProcess& server() { return server_; }
  const std::string& id() const { return id_; }
  // The agent's state dir (under the server's data dir).
  std::filesystem::path state_dir() const;

  nlohmann::json environment();
  nlohmann::json service(const std::string& name);
  bool agent_connected();
  // Creates a service (waiting for its operation to succeed) and returns how to reach it.
  ServiceAccess create_service(const std::string& name);
  // {"intervals", "cpu_millis_seconds", "memory_mib_seconds"} from GET .../usage.
  nlohmann::json usage();

  // The agent's log so far.
  std::string agent_log() const;

 private:
  test::ServerProcess server_;
  std::string name_;
  std::string id_;
};

// POSTs "SELECT 1" as `default`; the HTTP status, or 0 when no answer came.
int query(const ServiceAccess& service, const std::string& source_address = "",
          std::chrono::milliseconds timeout = std::chrono::seconds(5));

// How many times `needle` occurs in `text`.
size_t count(const std::string& text, const std::string& needle);

}  // namespace byoc::agent_loop
