#include "agent/runtimes/local/orphans.h"

#include <algorithm>
#include <map>
#include <set>

#include "agent/runtimes/local/proc_table.h"
#include "base/error.h"
#include "base/log.h"
#include "base/process.h"

namespace byoc::agent::local {
namespace {

// 0 when the file is missing or unreadable (rewritten by the caller).
pid_t pid_named_by(const std::filesystem::path& pid_file) {
  try {
    return proc::read_pid_file(pid_file).value_or(0);
  } catch (const Error&) {
    return 0;
  }
}

}  // namespace

int reconcile_pid_files(const std::vector<ExpectedProcess>& expected,
                        std::chrono::milliseconds duplicate_grace) {
  if (expected.empty()) return 0;
  std::map<std::string, std::vector<ProcessEntry>> by_comm;
  for (const auto& e : expected) by_comm[e.comm];
  for (auto& [comm, entries] : by_comm) entries = list_processes(comm);

  int repaired = 0;
  std::vector<pid_t> duplicates;
  for (const auto& e : expected) {
    std::vector<pid_t> matches;
    for (const auto& p : by_comm[e.comm])
      if (argument_in(p.cmdline, e.marker)) matches.push_back(p.pid);
    // A child a copy has forked and not exec'd yet carries the same command
    // line: it is part of that copy, not a second one.
    std::set<pid_t> forked;
    for (const auto& p : by_comm[e.comm])
      if (std::find(matches.begin(), matches.end(), p.parent) != matches.end()) forked.insert(p.pid);
    std::erase_if(matches, [&](pid_t pid) { return forked.count(pid) > 0; });
    if (matches.empty()) continue;
    std::sort(matches.begin(), matches.end());
    pid_t named = pid_named_by(e.pid_file);
    pid_t keep = matches.front();
    if (std::find(matches.begin(), matches.end(), named) != matches.end()) {
      keep = named;
    } else {
      proc::write_pid_file(e.pid_file, keep);
      ++repaired;
      spdlog::warn("local runtime: found pid {} running {} without its pid file; adopting it", keep,
                   e.marker);
    }
    for (pid_t pid : matches)
      if (pid != keep) {
        spdlog::warn("local runtime: stopping pid {}, a second copy of {}", pid, e.marker);
        duplicates.push_back(pid);
      }
  }
  if (!duplicates.empty()) terminate_together(duplicates, duplicate_grace);
  return repaired;
}

}  // namespace byoc::agent::local
