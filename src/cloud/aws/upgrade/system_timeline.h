// SystemTimeline: the upgrader's Timeline in a deployment — "now" is the
// clock's system time, a wait sleeps on it. A wait is cut into slices of at
// most `max_slice` (monotonic time), each ending with a fresh look at the
// wall clock: a wall clock set forward or back (NTP, an administrator) moves
// the wait's end within one slice, where one long monotonic sleep would miss
// it. stop() ends every wait at once, now and later, with TimelineStopped:
// the upgrader unwinds to its journal, which resumes it next time.
//
// Thread-safe: one thread waits (the upgrader's), any other may stop it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "base/clock.h"
#include "plan/upgrade/timeline.h"

namespace byoc::aws {

// Thrown out of a wait that stop() ended (and out of any wait after it).
class TimelineStopped : public std::runtime_error {
 public:
  TimelineStopped() : std::runtime_error("the upgrade was stopped while it waited") {}
};

class SystemTimeline final : public plan::upgrade::Timeline {
 public:
  // `clock` must outlive this.
  explicit SystemTimeline(const Clock& clock, std::chrono::milliseconds max_slice = std::chrono::seconds(30));

  plan::Instant now() const override;
  // Returns once the clock's system time reaches `t`. Throws TimelineStopped.
  void wait_until(plan::Instant t) override;
  void stop();

 private:
  const Clock& clock_;
  const std::chrono::milliseconds max_slice_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace byoc::aws
