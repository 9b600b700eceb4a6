#include "agent/runtimes/local/supervisor.h"

#include <signal.h>

#include <algorithm>

#include "agent/runtimes/local/proc_table.h"
#include "base/error.h"
#include "base/log.h"
#include "base/process.h"

namespace byoc::agent::local {

const char* to_string(ProcessState s) {
  switch (s) {
    case ProcessState::kRunning: return "running";
    case ProcessState::kBackoff: return "backoff";
    case ProcessState::kFailed: return "failed";
  }
  return "unknown";
}

Supervisor::Supervisor(const Clock& clock, BackoffPolicy policy) : clock_(clock), policy_(policy) {}

std::optional<pid_t> Supervisor::find_running(const std::filesystem::path& pid_file,
                                              const std::string& marker) {
  std::optional<pid_t> pid;
  try {
    pid = proc::read_pid_file(pid_file);
  } catch (const Error&) {
    return std::nullopt;  // unreadable pid file: nothing to adopt
  }
  if (!pid || !proc::is_alive(*pid)) return std::nullopt;
  // A recycled pid belongs to a stranger unless its command line names our config.
  if (marker.empty() || !has_argument(*pid, marker)) return std::nullopt;
  return pid;
}

void Supervisor::ensure_running(const std::string& key, ProcessSpec spec) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    it->second.spec = std::move(spec);
    if (it->second.info.state == ProcessState::kRunning) check_alive(key, it->second);
    // A process in backoff is poll()'s to restart: apply() must not defeat the backoff.
    return;
  }
  Entry& entry = entries_[key];
  entry.spec = std::move(spec);
  if (auto pid = find_running(entry.spec.pid_file, entry.spec.cmdline_marker)) {
    entry.info.pid = *pid;
    entry.info.adopted = true;
    entry.info.state = ProcessState::kRunning;
    entry.info.started_at = clock_.monotonic_time();
    spdlog::info("supervisor: adopted {} (pid {})", key, *pid);
    return;
  }
  try {
    start(key, entry);
  } catch (const std::exception& e) {
    spdlog::error("supervisor: cannot start {}: {}", key, e.what());
    on_death(key, entry, std::nullopt);
    throw;
  }
}

void Supervisor::start(const std::string& key, Entry& entry) {
  entry.info.pid = 0;
  entry.info.adopted = false;
  entry.info.started_at = clock_.monotonic_time();
  if (entry.spec.before_start) entry.spec.before_start();
  proc::SpawnOptions options;
  options.argv = entry.spec.argv;
  options.cwd = entry.spec.cwd;
  options.output = entry.spec.output;
  options.new_session = true;
  pid_t pid = proc::spawn(options);
  entry.info.pid = pid;
  entry.info.state = ProcessState::kRunning;
  entry.info.started_at = clock_.monotonic_time();
  try {
    proc::write_pid_file(entry.spec.pid_file, pid);
  } catch (const std::exception& e) {
    // The process runs and stays supervised; only a later adoption is lost.
    spdlog::error("supervisor: cannot write pid file of {}: {}", key, e.what());
  }
  spdlog::info("supervisor: started {} (pid {})", key, pid);
}

bool Supervisor::check_alive(const std::string& key, Entry& entry) {
  pid_t pid = entry.info.pid;
  if (pid <= 0) return false;
  // An adopted process is normally init's child (waitpid fails harmlessly),
  // but reaping it when it is ours keeps it from lingering as a zombie.
  if (auto code = proc::try_reap(pid)) {
    on_death(key, entry, code);
    return false;
  }
  if (!proc::is_alive(pid)) {
    // It may have turned zombie between the two checks: reap it now or never.
    on_death(key, entry, proc::try_reap(pid));
    return false;
  }
  return true;
}

void Supervisor::on_death(const std::string& key, Entry& entry, std::optional<int> exit_code) {
  MonotonicTime now = clock_.monotonic_time();
  if (entry.info.pid > 0 && !entry.spec.comm.empty()) {
    // The leader led its own session: anything left in its group is its
    // helpers (nginx workers), which would keep the port from the next start.
    int killed = kill_group_members(entry.info.pid, entry.spec.comm);
    if (killed > 0) spdlog::warn("supervisor: killed {} leftover process(es) of {}", killed, key);
  }
  if (now - entry.info.started_at >= policy_.reset_after) {
    entry.info.consecutive_failures = 0;
    entry.backoff = policy_.initial;
  }
  if (entry.backoff.count() <= 0) entry.backoff = policy_.initial;
  ++entry.info.consecutive_failures;
  entry.next_start = now + entry.backoff;
  auto delay = entry.backoff;
  entry.backoff = std::min(entry.backoff * 2, policy_.max);
  entry.info.state = entry.info.consecutive_failures >= policy_.failed_after ? ProcessState::kFailed
                                                                             : ProcessState::kBackoff;
  entry.info.last_exit = exit_code;
  entry.info.pid = 0;
  spdlog::warn("supervisor: {} is down (exit {}, {} in a row); restart in {} ms", key,
               exit_code ? std::to_string(*exit_code) : std::string("unknown"),
               entry.info.consecutive_failures, delay.count());
}

void Supervisor::poll() {
  MonotonicTime now = clock_.monotonic_time();
  for (auto& [key, entry] : entries_) {
    if (entry.info.state == ProcessState::kRunning) {
      check_alive(key, entry);
      continue;
    }
    if (now < entry.next_start) continue;
    try {
      start(key, entry);
      ++entry.info.restarts;
    } catch (const std::exception& e) {
      spdlog::error("supervisor: cannot restart {}: {}", key, e.what());
      on_death(key, entry, std::nullopt);
    }
  }
}

std::optional<pid_t> Supervisor::release(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  std::optional<pid_t> pid;
  if (it->second.info.pid > 0) pid = it->second.info.pid;
  entries_.erase(it);
  return pid;
}

bool Supervisor::signal(const std::string& key, int sig) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.info.state != ProcessState::kRunning || it->second.info.pid <= 0)
    return false;
  return ::kill(it->second.info.pid, sig) == 0;
}

std::optional<ProcessInfo> Supervisor::info(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.info;
}

std::vector<std::string> Supervisor::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, entry] : entries_) out.push_back(key);
  return out;
}

}  // namespace byoc::agent::local
