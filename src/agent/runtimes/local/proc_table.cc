#include "agent/runtimes/local/proc_table.h"

#include <signal.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "base/files.h"

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

}  // namespace byoc::agent::local
