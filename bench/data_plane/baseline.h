// The baseline of the data-plane benchmark: a plain bash script that starts
// the processes a 1 x 2 service runs as — ZooKeeper, two clickhouse-servers,
// nginx — all at once, with the same command lines and the same rendered
// configuration files as the local runtime, and polls until each has given
// its first answer (ruok, /ping, SELECT 1 through nginx over TLS). No
// orchestration: only what starting these programs costs. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace byoc::bench {

class BaselineScript {
 public:
  // Writes configs, certificate and script under `dir` (fresh ports).
  explicit BaselineScript(std::filesystem::path dir);
  ~BaselineScript();  // stops whatever still runs
  BaselineScript(const BaselineScript&) = delete;
  BaselineScript& operator=(const BaselineScript&) = delete;

  // Runs the script from cold (no data dir yet): the time until every process answered.
  std::chrono::milliseconds run();
  // Stops the processes the script started (by pid) and deletes their data.
  void stop();
  // What the last run printed: when each process answered.
  std::string last_output() const;

 private:
  std::filesystem::path dir_;
  std::vector<pid_t> started_;
};

}  // namespace byoc::bench
