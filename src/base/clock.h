// Clock: where every piece of byoc code gets the time, waits and schedules,
// in the manner of Envoy's TimeSource. Two times: system time (wall clock, for
// timestamps, certificates and expiry stored in the database) and monotonic
// time (for deadlines, timeouts and backoff, which must not jump when the wall
// clock is set). Nothing outside src/base reads a clock directly: components
// receive a Clock&. Production constructs one SystemClock in main(); tests
// inject a ManualClock and move time by hand, so tests of expiry, backoff and
// timeouts never sleep. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/timer_queue.h"

namespace byoc {

using SystemTime = std::chrono::system_clock::time_point;
using TimePoint = SystemTime;

// Cancels a scheduled call: true when it had not started (it never will);
// false when it has run or is running.
using CancelTimer = std::function<bool()>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime system_time() const = 0;
  virtual MonotonicTime monotonic_time() const = 0;
  // Seconds since the Unix epoch (system time).
  int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(system_time().time_since_epoch()).count();
  }
  int64_t unix_millis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(system_time().time_since_epoch()).count();
  }

  // Waits on `cv` (`lock` held on entry and on return, released meanwhile)
  // until it is notified or this clock reaches `deadline`; true when the
  // deadline has passed. Like condition_variable::wait_until it may return
  // early, so callers loop on their own condition.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          MonotonicTime deadline) const = 0;

  // Sleeps until this clock reaches `deadline` or `*stop` becomes true (looked
  // at least every 50 ms of real time). True when the deadline passed.
  bool sleep_until(MonotonicTime deadline, const std::atomic<bool>* stop = nullptr) const;
  bool sleep_for(std::chrono::nanoseconds d, const std::atomic<bool>* stop = nullptr) const {
    return sleep_until(monotonic_time() + d, stop);
  }

  // Calls `fn` once this clock has advanced by `delay`: on the clock's timer
  // thread (SystemClock) or inside advance() (ManualClock). `fn` must be
  // short: hand longer work to a pool. Timers due at the same time run in the
  // order they were scheduled.
  virtual CancelTimer schedule(std::chrono::nanoseconds delay, std::function<void()> fn) const = 0;
};

// The machine's clocks. Its timer thread starts with the first schedule()
// and stops, dropping timers not yet due, at stop_timers() or with the clock.
class SystemClock final : public Clock {
 public:
  SystemClock() = default;
  ~SystemClock() override;
  SystemClock(const SystemClock&) = delete;
  SystemClock& operator=(const SystemClock&) = delete;

  SystemTime system_time() const override { return std::chrono::system_clock::now(); }
  MonotonicTime monotonic_time() const override { return std::chrono::steady_clock::now(); }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  MonotonicTime deadline) const override;
  CancelTimer schedule(std::chrono::nanoseconds delay, std::function<void()> fn) const override;
  // Drops the timers not yet run and waits out one that runs; schedule()
  // does nothing afterwards. For shutdown, before what timers use is gone.
  void stop_timers();

 private:
  void run_timers() const;

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  mutable TimerQueue timers_;
  mutable std::thread thread_;
  mutable bool stopping_ = false;
};

// Time that moves only when a test says so. advance() moves system and
// monotonic time together, runs every timer that has come due (on the calling
// thread, in due order, the clock standing at each one's due time while it
// runs) and wakes every wait_until(). set_unix_seconds()
// sets the wall clock alone (as an administrator or NTP would); monotonic time
// never goes back.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_seconds = 1'800'000'000)
      : system_micros_(unix_seconds * 1'000'000), monotonic_micros_(1'000'000) {}

  SystemTime system_time() const override {
    return SystemTime(std::chrono::microseconds(system_micros_.load()));
  }
  MonotonicTime monotonic_time() const override {
    return MonotonicTime(std::chrono::microseconds(monotonic_micros_.load()));
  }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  MonotonicTime deadline) const override;
  CancelTimer schedule(std::chrono::nanoseconds delay, std::function<void()> fn) const override;

  // d ≥ 0 (throws std::invalid_argument otherwise). Throws std::logic_error
  // if timers keep scheduling timers with no delay (time could never move).
  void advance(std::chrono::microseconds d);
  void set_unix_seconds(int64_t s) { system_micros_ = s * 1'000'000; }
  // Timers scheduled and not yet run nor cancelled (for tests).
  size_t pending_timers() const;

 private:
  std::atomic<int64_t> system_micros_;
  std::atomic<int64_t> monotonic_micros_;
  mutable std::mutex mutex_;  // guards timers_ and waiting_
  mutable TimerQueue timers_;
  mutable std::vector<std::condition_variable*> waiting_;
  std::mutex advance_mutex_;  // one advance() at a time, so timers run in order
};

// RFC 3339 UTC with seconds, e.g. "2026-11-24T06:38:09Z".
std::string format_rfc3339(int64_t unix_seconds);
// The inverse, for exactly that form ("YYYY-MM-DDTHH:MM:SSZ"); nullopt otherwise.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Seconds since the Unix epoch of a UTC calendar time; nullopt for one that
// cannot be (February 30th, hour 24, second 60) or a year outside 1-9999.
std::optional<int64_t> unix_from_civil(int year, int month, int day, int hour, int minute, int second);

// A point in time to the microsecond.
struct UnixTime {
  int64_t seconds = 0;
  int32_t micros = 0;  // 0..999999, after `seconds`
};
// An RFC 3339 date-time, the ISO 8601 profile: "2019-12-16T23:48:18Z",
// "2019-12-16T23:48:18.123-01:00", with 't' or ' ' for 'T', 'z' for 'Z', an
// offset as +HH:MM, +HHMM or +HH, and a fraction of any length (kept to the
// microsecond). Impossible dates are rejected, as unix_from_civil() does.
std::optional<UnixTime> parse_iso8601(std::string_view text);

}  // namespace byoc
