#include "server/presence.h"

namespace byoc::server {

void AgentPresence::begin(const std::string& environment_id) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[environment_id];
  ++e.active;
  e.last_seen = clock_.unix_seconds();
}

void AgentPresence::end(const std::string& environment_id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(environment_id);
  if (it == entries_.end()) return;
  if (it->second.active > 0) --it->second.active;
  it->second.last_seen = clock_.unix_seconds();
}

bool AgentPresence::connected(const std::string& environment_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(environment_id);
  return it != entries_.end() && alive(it->second, clock_.unix_seconds());
}

std::vector<std::string> AgentPresence::take_disconnected() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  int64_t now = clock_.unix_seconds();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!alive(it->second, now)) {
      out.push_back(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

size_t AgentPresence::connected_count() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  int64_t now = clock_.unix_seconds();
  for (const auto& [id, e] : entries_) n += alive(e, now);
  return n;
}

}  // namespace byoc::server
