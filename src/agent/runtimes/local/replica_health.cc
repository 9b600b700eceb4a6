#include "agent/runtimes/local/replica_health.h"

namespace byoc::agent::local {

ReplicaHealth::ReplicaHealth(std::chrono::milliseconds recheck, int failures_to_down)
    : recheck_(recheck), failures_to_down_(failures_to_down < 1 ? 1 : failures_to_down) {}

std::vector<std::string> ReplicaHealth::due(const std::map<std::string, pid_t>& running, MonotonicTime now) {
  std::vector<std::string> out;
  // Replicas no longer part of the service are forgotten.
  for (auto it = entries_.begin(); it != entries_.end();)
    it = running.count(it->first) ? std::next(it) : entries_.erase(it);
  for (const auto& [replica, pid] : running) {
    Entry& e = entries_[replica];
    if (pid != e.pid) {
      // A new process (or none): nothing known about it yet.
      int generation = e.generation + (pid > 0 ? 1 : 0);
      e = Entry{};
      e.pid = pid;
      e.generation = generation;
    }
    if (pid <= 0) continue;
    if (!e.answers || e.failures > 0 || now - e.checked >= recheck_) out.push_back(replica);
  }
  return out;
}

void ReplicaHealth::record(const std::string& replica, pid_t pid, bool answered, MonotonicTime now) {
  auto it = entries_.find(replica);
  if (it == entries_.end() || it->second.pid != pid || pid <= 0) return;
  Entry& e = it->second;
  e.probed = true;
  e.checked = now;
  if (answered) {
    e.answers = true;
    e.failures = 0;
  } else if (++e.failures >= failures_to_down_ || !e.answers) {
    e.answers = false;
  }
}

bool ReplicaHealth::answers(const std::string& replica) const {
  auto it = entries_.find(replica);
  return it != entries_.end() && it->second.pid > 0 && it->second.answers;
}

bool ReplicaHealth::known(const std::string& replica) const {
  auto it = entries_.find(replica);
  return it != entries_.end() && it->second.pid > 0 && it->second.probed;
}

bool ReplicaHealth::first_process(const std::string& replica) const {
  auto it = entries_.find(replica);
  return it != entries_.end() && it->second.pid > 0 && it->second.generation == 1;
}

std::set<std::string> ReplicaHealth::healthy() const {
  std::set<std::string> out;
  for (const auto& [replica, e] : entries_)
    if (e.pid > 0 && e.answers) out.insert(replica);
  return out;
}

}  // namespace byoc::agent::local
