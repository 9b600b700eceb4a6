// Read-only views of other processes through /proc, for what proc:: does not
// cover: recognising a process we started in an earlier life (adoption by its
// command line), finding nginx's workers, and killing the leftovers of a
// process group whose leader died. Linux only. Thread-safe.
#pragma once

#include <sys/types.h>

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

}  // namespace byoc::agent::local
