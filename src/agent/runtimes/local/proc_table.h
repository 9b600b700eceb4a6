// Views of other processes through /proc, for what proc:: does not cover:
// recognising a process we started in an earlier life (adoption by its
// command line), finding nginx's workers, killing the leftovers of a process
// group whose leader died, and stopping many groups at once with one shared
// deadline. Linux only. Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace byoc::agent::local {

// argv joined with spaces ("" if the process is gone or unreadable).
std::string process_cmdline(pid_t pid);

// Live (non-zombie) processes whose parent is `pid`.
std::vector<pid_t> child_processes(pid_t pid);

// SIGKILLs every live process of group `pgid` whose comm (the kernel's
// 15-character name) equals `comm`. The comm check keeps a recycled group id
// from ever hitting a stranger. Returns how many were signalled.
int kill_group_members(pid_t pgid, const std::string& comm);

// Does the command line of `pid` hold `argument` as one whole word (as
// process_cmdline joins it)? nginx rewrites its title but keeps its arguments
// in it, so "-c /abs/nginx.conf" still finds its master.
bool has_argument(pid_t pid, const std::string& argument);

// Is `argument` a whole word of `cmdline` (argv joined with spaces)?
bool argument_in(const std::string& cmdline, const std::string& argument);

// Live processes named `comm` whose command line holds `argument` as a whole
// word: the way to find a process we started when its pid file is missing
// (killed between the start and the pid file's write).
std::vector<pid_t> find_processes(const std::string& comm, const std::string& argument);

struct ProcessEntry {
  pid_t pid = 0;
  pid_t parent = 0;
  std::string cmdline;  // as process_cmdline()
};
// Every live process named `comm`, in one pass over /proc.
std::vector<ProcessEntry> list_processes(const std::string& comm);

// Stops several process groups at once, each led by one of `leaders` (our
// children start their own session): SIGTERM to every group, a shared wait of
// up to `grace` for all of them to go (reaping our children), then SIGKILL to
// what is left. A leader that is no longer a group leader is signalled alone.
// Returns true if everything ended within the grace period.
bool terminate_together(const std::vector<pid_t>& leaders, std::chrono::milliseconds grace);

}  // namespace byoc::agent::local
