#include "server/waiters.h"

#include <vector>

namespace byoc::server {

uint64_t RevisionWaiters::wait(const std::string& environment_id, int64_t known_revision, Callback wake) {
  {
    std::lock_guard lock(mutex_);
    auto& env = environments_[environment_id];
    if (env.latest <= known_revision) {
      uint64_t ticket = next_ticket_++;
      env.waiters.emplace(ticket, Waiter{known_revision, std::move(wake)});
      ++count_;
      return ticket;
    }
  }
  wake();
  return 0;
}

bool RevisionWaiters::cancel(const std::string& environment_id, uint64_t ticket) {
  std::lock_guard lock(mutex_);
  auto it = environments_.find(environment_id);
  if (it == environments_.end() || !it->second.waiters.erase(ticket)) return false;
  --count_;
  return true;
}

void RevisionWaiters::notify(const std::string& environment_id, int64_t revision) {
  std::vector<Callback> ready;
  {
    std::lock_guard lock(mutex_);
    auto& env = environments_[environment_id];
    if (revision > env.latest) env.latest = revision;
    for (auto it = env.waiters.begin(); it != env.waiters.end();) {
      if (it->second.known_revision < revision) {
        ready.push_back(std::move(it->second.wake));
        it = env.waiters.erase(it);
        --count_;
      } else {
        ++it;
      }
    }
  }
  for (auto& wake : ready) wake();
}

void RevisionWaiters::forget(const std::string& environment_id) {
  std::vector<Callback> ready;
  {
    std::lock_guard lock(mutex_);
    auto it = environments_.find(environment_id);
    if (it == environments_.end()) return;
    for (auto& [ticket, waiter] : it->second.waiters) ready.push_back(std::move(waiter.wake));
    count_ -= it->second.waiters.size();
    environments_.erase(it);
  }
  for (auto& wake : ready) wake();
}

size_t RevisionWaiters::waiting() const {
  std::lock_guard lock(mutex_);
  return count_;
}

}  // namespace byoc::server
