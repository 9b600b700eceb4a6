// The measured side of the data-plane benchmark: a real `byoc server` (with
// its access log on) and a `local` environment whose agent has joined, no
// service yet, driven through the `byoc` CLI exactly as a user would. A cold
// start is `byoc service create --wait` of a 1 x 2 service and then the same
// ON CLUSTER DDL + replicated INSERT through its endpoint as the baseline
// (cluster_proof.h). Where the time went is read back afterwards from the
// server's access log, the agent's log and the processes' own logs. Not
// thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster_proof.h"
#include "log_times.h"

namespace byoc::bench {

struct ByocRun {
  std::string service;
  WallTime wall_start;                   // the CLI spawned (system clock, for the logs)
  std::chrono::milliseconds cli_done{0};  // `service create --wait` returned
  ProofTimes proof;                      // from the CLI's spawn; proof.replicated ends the run
  // Logs of the service's processes, read before the service is deleted
  // (its directory and ZooKeeper's go with it).
  std::string zookeeper_log;
  std::vector<std::string> replica_logs;
};

// One step of byoc's cold start: milliseconds from the CLI's spawn.
struct Step {
  std::string what;
  std::optional<long> at_ms;
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

  // The measured cold start of a 1 x 2 service `name`.
  ByocRun cold_start(const std::string& name);
  void delete_service(const std::string& name);
  // Byoc's steps in `run`, from the logs. Call after delete_service(): the
  // sync that carried the READY report is logged when it is answered, which
  // the next change (the delete) makes happen at once.
  std::vector<Step> timeline(const ByocRun& run) const;
  EnvironmentMemory memory() const;
  // True when no ZooKeeper, replica or endpoint of the environment runs.
  bool cold() const;

 private:
  // Runs `byoc args...` to completion; throws with its output if it fails.
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
