// Finding the processes that belong to a directory: every process byoc
// starts for an environment (agent, clickhouse-server, nginx, ZooKeeper) is
// given config or data paths under the server's data dir, so its command line
// names that directory. `byoc up` uses this to wait until everything the
// server started is gone after it stops it.
//
// Reads /proc; thread-safe; processes may vanish while we look (ignored).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace byoc::cli {

struct ProcessInfo {
  pid_t pid = 0;
  std::string executable;  // basename of /proc/PID/exe ("" if unreadable)
  std::string command;     // argv joined by spaces
};

// Live (non-zombie) processes other than this one with an argument that is
// `dir` or lies under it.
std::vector<ProcessInfo> processes_under(const std::filesystem::path& dir);

// True if an argument of `argv` (NUL-separated, as /proc/PID/cmdline holds
// it) is `dir` or a path under it, also inside `--flag=PATH` arguments.
bool command_line_mentions(const std::string& argv, const std::filesystem::path& dir);

}  // namespace byoc::cli
