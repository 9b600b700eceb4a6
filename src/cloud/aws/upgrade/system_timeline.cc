#include "cloud/aws/upgrade/system_timeline.h"

#include <algorithm>

namespace byoc::aws {

SystemTimeline::SystemTimeline(const Clock& clock, std::chrono::milliseconds max_slice)
    : clock_(clock), max_slice_(std::max(max_slice, std::chrono::milliseconds(1))) {}

plan::Instant SystemTimeline::now() const { return std::chrono::floor<std::chrono::seconds>(clock_.system_time()); }

void SystemTimeline::wait_until(plan::Instant t) {
  std::unique_lock lock(mutex_);
  while (true) {
    // Under the lock stop() takes: a stop between this look and the wait below still wakes the wait.
    if (stopped_) throw TimelineStopped();
    const auto left = t - clock_.system_time();
    if (left <= SystemTime::duration::zero()) return;
    const auto slice = std::min<std::chrono::nanoseconds>(left, max_slice_);
    clock_.wait_until(lock, cv_, clock_.monotonic_time() + slice);
  }
}

void SystemTimeline::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  cv_.notify_all();
}

}  // namespace byoc::aws
