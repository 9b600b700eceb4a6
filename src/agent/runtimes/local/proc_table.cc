#include "agent/runtimes/local/proc_table.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "base/files.h"
#include "base/process.h"

namespace byoc::agent::local {
namespace fs = std::filesystem;
namespace {

struct Stat {
  std::string comm;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

std::optional<std::string> read_proc_file(pid_t pid, const char* name) {
  try {
    return files::read_if_exists(fs::path("/proc") / std::to_string(pid) / name);
  } catch (const std::exception&) {
    return std::nullopt;  // vanished between listing and reading
  }
}

// "pid (comm) state ppid pgrp ..." — comm may hold spaces and parentheses.
std::optional<Stat> read_stat(pid_t pid) {
  auto text = read_proc_file(pid, "stat");
  if (!text) return std::nullopt;
  auto open = text->find('(');
  auto close = text->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= text->size())
    return std::nullopt;
  Stat stat;
  stat.comm = text->substr(open + 1, close - open - 1);
  stat.state = (*text)[close + 2];
  int ppid = 0, pgrp = 0;
  if (std::sscanf(text->c_str() + close + 3, "%d %d", &ppid, &pgrp) != 2) return std::nullopt;
  stat.ppid = ppid;
  stat.pgrp = pgrp;
  return stat;
}

bool live(const Stat& s) { return s.state != 'Z' && s.state != 'X' && s.state != 'x'; }

template <typename F>
void for_each_process(F f) {
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int pid = 0;
    auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err != std::errc() || ptr != name.data() + name.size()) continue;
    if (auto stat = read_stat(pid)) f(static_cast<pid_t>(pid), *stat);
  }
}

}  // namespace

std::string process_cmdline(pid_t pid) {
  if (pid <= 0) return "";
  auto text = read_proc_file(pid, "cmdline");
  if (!text) return "";
  std::string out = *text;
  while (!out.empty() && out.back() == '\0') out.pop_back();
  for (char& c : out)
    if (c == '\0') c = ' ';
  return out;
}

std::vector<pid_t> child_processes(pid_t pid) {
  std::vector<pid_t> children;
  for_each_process([&](pid_t p, const Stat& s) {
    if (s.ppid == pid && live(s)) children.push_back(p);
  });
  return children;
}

int kill_group_members(pid_t pgid, const std::string& comm) {
  if (pgid <= 1) return 0;
  int killed = 0;
  for_each_process([&](pid_t p, const Stat& s) {
    if (s.pgrp == pgid && live(s) && s.comm == comm && ::kill(p, SIGKILL) == 0) ++killed;
  });
  return killed;
}

bool has_argument(pid_t pid, const std::string& argument) {
  return argument_in(process_cmdline(pid), argument);
}

bool argument_in(const std::string& cmdline, const std::string& argument) {
  if (argument.empty()) return false;
  for (size_t at = cmdline.find(argument); at != std::string::npos; at = cmdline.find(argument, at + 1)) {
    bool starts = at == 0 || cmdline[at - 1] == ' ';
    bool ends = at + argument.size() == cmdline.size() || cmdline[at + argument.size()] == ' ';
    if (starts && ends) return true;
  }
  return false;
}

std::vector<pid_t> find_processes(const std::string& comm, const std::string& argument) {
  std::vector<pid_t> out;
  for_each_process([&](pid_t p, const Stat& s) {
    if (s.comm == comm && live(s) && has_argument(p, argument)) out.push_back(p);
  });
  return out;
}

std::vector<ProcessEntry> list_processes(const std::string& comm) {
  std::vector<ProcessEntry> out;
  for_each_process([&](pid_t p, const Stat& s) {
    if (s.comm == comm && live(s)) out.push_back({p, s.ppid, process_cmdline(p)});
  });
  return out;
}

bool terminate_together(const std::vector<pid_t>& leaders, std::chrono::milliseconds grace) {
  struct Target {
    pid_t pid;
    bool whole_group;
  };
  std::vector<Target> targets;
  for (pid_t pid : leaders) {
    if (pid <= 1 || pid == ::getpid()) continue;  // never our own group, never init
    pid_t pgid = ::getpgid(pid);
    if (pgid < 0) {
      proc::try_reap(pid);
      continue;
    }
    targets.push_back({pid, pgid == pid && pgid != ::getpgrp()});
  }
  auto signal_all = [&](int sig) {
    for (const auto& t : targets) ::kill(t.whole_group ? -t.pid : t.pid, sig);
  };
  // One /proc pass per check covers every group.
  auto all_gone = [&] {
    for (const auto& t : targets) proc::try_reap(t.pid);
    bool any = false;
    for_each_process([&](pid_t p, const Stat& s) {
      if (any || !live(s)) return;
      for (const auto& t : targets)
        if (p == t.pid || (t.whole_group && s.pgrp == t.pid)) {
          any = true;
          return;
        }
    });
    return !any;
  };
  if (targets.empty()) return true;
  signal_all(SIGTERM);
  signal_all(SIGCONT);  // a stopped process acts on SIGTERM only once continued
  if (proc::wait_for(grace, all_gone)) return true;
  signal_all(SIGKILL);
  // SIGKILL can't be refused; the bound only covers processes stuck in the kernel.
  proc::wait_for(std::chrono::seconds(10), all_gone);
  return false;
}

}  // namespace byoc::agent::local
