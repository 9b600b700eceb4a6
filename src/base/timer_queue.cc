#include "base/timer_queue.h"

namespace byoc {

uint64_t TimerQueue::add(MonotonicTime when, std::function<void()> fn) {
  uint64_t id = next_id_++;
  by_due_.emplace(Key{when, id}, std::move(fn));
  by_id_.emplace(id, when);
  return id;
}

bool TimerQueue::cancel(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  by_due_.erase(Key{it->second, id});
  by_id_.erase(it);
  return true;
}

std::optional<std::function<void()>> TimerQueue::pop_due(MonotonicTime now) {
  auto first = by_due_.begin();
  if (first == by_due_.end() || first->first.first > now) return std::nullopt;
  std::function<void()> fn = std::move(first->second);
  by_id_.erase(first->first.second);
  by_due_.erase(first);
  return fn;
}

std::optional<MonotonicTime> TimerQueue::next_due() const {
  if (by_due_.empty()) return std::nullopt;
  return by_due_.begin()->first.first;
}

void TimerQueue::clear() {
  by_due_.clear();
  by_id_.clear();
}

}  // namespace byoc
