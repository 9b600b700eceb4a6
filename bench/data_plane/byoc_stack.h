// The measured side of the data-plane benchmark: a real `byoc server` with a
// `local` environment (its agent joined, no service yet), driven through the
// `byoc` CLI exactly as a user would. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/process.h"

namespace byoc::bench {

struct CreateResult {
  std::chrono::milliseconds until_first_select{0};  // CLI start to "1" through the endpoint
  std::chrono::milliseconds cli_wait{0};            // of which `service create --wait` itself
  std::chrono::milliseconds runtime_apply{-1};      // of which the agent's runtime apply() (from its log)
  std::string endpoint;
  std::string password;
};

// Resident memory (VmRSS) of an environment's processes, in KiB, by role.
struct EnvironmentMemory {
  long agent = 0;
  long zookeeper = 0;
  long endpoints = 0;  // nginx masters and their workers
  int endpoint_processes = 0;
  long clickhouse = 0;
  int clickhouse_processes = 0;
  long not_clickhouse() const { return agent + zookeeper + endpoints; }
};

class ByocStack {
 public:
  // Starts `byoc server` under `dir`, logs the CLI in, creates a local
  // environment and waits until its agent is connected.
  ByocStack(std::filesystem::path byoc, std::filesystem::path dir);
  ~ByocStack();
  ByocStack(const ByocStack&) = delete;
  ByocStack& operator=(const ByocStack&) = delete;

  // `byoc service create NAME --shards S --replicas R --wait`, then SELECT 1
  // through the endpoint until it answers.
  CreateResult create_service(const std::string& name, int shards, int replicas);
  void delete_service(const std::string& name);
  EnvironmentMemory memory() const;
  // True when no ZooKeeper, replica or endpoint of the environment runs.
  bool cold() const;

 private:
  // Runs `byoc args...` to completion; throws with its stderr if it fails.
  std::string run(const std::vector<std::string>& args) const;

  std::filesystem::path byoc_;
  std::filesystem::path dir_;
  std::filesystem::path home_;
  std::filesystem::path data_;
  std::filesystem::path environment_dir_;
  std::string ca_pem_;
  std::set<std::string> services_;  // created and not deleted yet
  pid_t server_ = -1;
};

}  // namespace byoc::bench
