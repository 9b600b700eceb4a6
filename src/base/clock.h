// Clock: where every piece of byoc code gets "now". Production uses
// SystemClock; tests inject a ManualClock and move time by hand, so tests of
// expiry and windows never sleep. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace byoc {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Seconds since the Unix epoch.
  int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_seconds = 1'800'000'000) : micros_(unix_seconds * 1'000'000) {}
  TimePoint now() const override {
    return TimePoint(std::chrono::microseconds(micros_.load()));
  }
  void advance(std::chrono::microseconds d) { micros_ += d.count(); }
  void set_unix_seconds(int64_t s) { micros_ = s * 1'000'000; }

 private:
  std::atomic<int64_t> micros_;
};

// RFC 3339 UTC with seconds, e.g. "2026-11-24T06:38:09Z".
std::string format_rfc3339(int64_t unix_seconds);

}  // namespace byoc
