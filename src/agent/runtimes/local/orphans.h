// Finds the processes a runtime started in an earlier life that its pid
// files don't name: an agent killed between starting a process and writing
// its pid file leaves one running that only its command line identifies.
// Adopting it (rewriting the pid file) instead of starting a second copy is
// what keeps "one process per replica" true across crashes. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace byoc::agent::local {

struct ExpectedProcess {
  std::string comm;    // kernel name ("clickhouse-serv", "nginx", "java")
  std::string marker;  // a whole argument only this process has (its config file)
  std::filesystem::path pid_file;
};

// One pass over /proc for all of `expected`: where the pid file does not name
// a live process carrying the marker but such a process runs, its pid is
// written to the pid file. Any further copy carrying the same marker is
// stopped (SIGTERM, then SIGKILL after `duplicate_grace`). Returns the number
// of pid files rewritten.
int reconcile_pid_files(const std::vector<ExpectedProcess>& expected,
                        std::chrono::milliseconds duplicate_grace = std::chrono::seconds(10));

}  // namespace byoc::agent::local
