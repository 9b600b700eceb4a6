// RevisionWaiters: agents long-polling for a newer desired state, indexed by
// environment, so a change wakes exactly that environment's waiters — never a
// scan over all of them. notify() is called after the transaction that raised
// the revision has committed; a waiter registered after that notify still
// sees the newer revision and fires at once.
//
// Thread-safe. Callbacks run on the notifying thread, outside the lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace byoc::server {

class RevisionWaiters {
 public:
  using Callback = std::function<void()>;

  // Calls `wake` once the environment's revision exceeds `known_revision`
  // (immediately if it already does). Returns a ticket for cancel(), or 0 if
  // it fired at once.
  uint64_t wait(const std::string& environment_id, int64_t known_revision, Callback wake);
  // Returns true if the waiter was still registered (and is now removed).
  bool cancel(const std::string& environment_id, uint64_t ticket);
  void notify(const std::string& environment_id, int64_t revision);
  void forget(const std::string& environment_id);
  size_t waiting() const;

 private:
  struct Waiter {
    int64_t known_revision;
    Callback wake;
  };
  struct Environment {
    int64_t latest = 0;
    std::map<uint64_t, Waiter> waiters;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Environment> environments_;
  uint64_t next_ticket_ = 1;
  size_t count_ = 0;
};

}  // namespace byoc::server
