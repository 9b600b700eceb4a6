// TimerQueue: calls waiting for a monotonic time, in due order (ties in the
// order they were added). Not thread-safe: the clocks guard it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace byoc {

using MonotonicTime = std::chrono::steady_clock::time_point;

class TimerQueue {
 public:
  // Returns an id for cancel(); ids are never reused.
  uint64_t add(MonotonicTime when, std::function<void()> fn);
  // True when the timer was still waiting (it is now gone).
  bool cancel(uint64_t id);
  // Removes and returns the earliest call due at `now`, if any.
  std::optional<std::function<void()>> pop_due(MonotonicTime now);
  std::optional<MonotonicTime> next_due() const;
  size_t size() const { return by_id_.size(); }
  void clear();

 private:
  using Key = std::pair<MonotonicTime, uint64_t>;
  std::map<Key, std::function<void()>> by_due_;
  std::map<uint64_t, MonotonicTime> by_id_;
  uint64_t next_id_ = 1;
};

}  // namespace byoc
