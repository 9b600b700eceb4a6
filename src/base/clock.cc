#include "base/clock.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "base/scan.h"

namespace byoc {
namespace {

using namespace std::chrono_literals;

// How long a ManualClock waiter sleeps in real time before looking at the
// clock again: covers an advance() that lands between its check and its wait.
constexpr auto kManualWaitSlice = 10ms;
// More timers due at one instant than any test schedules: a timer loop.
constexpr size_t kMaxTimersAtOneInstant = 100'000;
// How often sleep_until() looks at its stop flag.
constexpr auto kStopPoll = 50ms;

void run_guarded(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::error("a timer failed: {}", e.what());
  } catch (...) {
    spdlog::error("a timer failed with a non-standard exception");
  }
}

}  // namespace

bool Clock::sleep_until(MonotonicTime deadline, const std::atomic<bool>* stop) const {
  std::mutex mutex;
  std::condition_variable cv;  // never notified: each wait ends on its deadline
  std::unique_lock lock(mutex);
  while (true) {
    MonotonicTime now = monotonic_time();
    if (now >= deadline) return true;
    if (stop && stop->load()) return false;
    wait_until(lock, cv, std::min(deadline, now + kStopPoll));
  }
}

SystemClock::~SystemClock() { stop_timers(); }

void SystemClock::stop_timers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    timers_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SystemClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             MonotonicTime deadline) const {
  return cv.wait_until(lock, deadline) == std::cv_status::timeout || monotonic_time() >= deadline;
}

CancelTimer SystemClock::schedule(std::chrono::nanoseconds delay, std::function<void()> fn) const {
  uint64_t id;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return [] { return false; };
    if (!thread_.joinable()) thread_ = std::thread([this] { run_timers(); });
    id = timers_.add(monotonic_time() + delay, std::move(fn));
  }
  cv_.notify_one();
  return [this, id] {
    std::lock_guard lock(mutex_);
    return timers_.cancel(id);
  };
}

void SystemClock::run_timers() const {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::optional<MonotonicTime> next = timers_.next_due();
    if (!next) {
      cv_.wait(lock);
      continue;
    }
    if (*next > monotonic_time()) {
      cv_.wait_until(lock, *next);
      continue;
    }
    std::optional<std::function<void()>> fn = timers_.pop_due(monotonic_time());
    if (!fn) continue;
    lock.unlock();
    run_guarded(*fn);
    lock.lock();
  }
}

bool ManualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             MonotonicTime deadline) const {
  if (monotonic_time() >= deadline) return true;
  {
    std::lock_guard guard(mutex_);
    waiting_.push_back(&cv);
  }
  cv.wait_for(lock, kManualWaitSlice);
  {
    std::lock_guard guard(mutex_);
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &cv));
  }
  return monotonic_time() >= deadline;
}

CancelTimer ManualClock::schedule(std::chrono::nanoseconds delay, std::function<void()> fn) const {
  std::lock_guard lock(mutex_);
  uint64_t id = timers_.add(monotonic_time() + std::chrono::duration_cast<std::chrono::microseconds>(delay),
                            std::move(fn));
  return [this, id] {
    std::lock_guard guard(mutex_);
    return timers_.cancel(id);
  };
}

void ManualClock::advance(std::chrono::microseconds d) {
  if (d.count() < 0) throw std::invalid_argument("ManualClock::advance: time only moves forward (set_unix_seconds sets the wall clock back)");
  std::lock_guard serial(advance_mutex_);
  const int64_t target = monotonic_micros_ + d.count();
  // Step from timer to timer: each runs with the clock at its due time, so
  // what it schedules in turn is timed from then, as it would be for real.
  auto step_to = [this](int64_t micros) {
    int64_t step = micros - monotonic_micros_;
    if (step <= 0) return;
    system_micros_ += step;
    monotonic_micros_ += step;
  };
  // Timers run at one instant, to catch one that keeps scheduling itself
  // with no delay: time could never move on, and the test would hang.
  int64_t instant = -1;
  size_t run_at_instant = 0;
  while (true) {
    std::optional<std::function<void()>> fn;
    {
      std::lock_guard lock(mutex_);
      std::optional<MonotonicTime> next = timers_.next_due();
      if (!next) break;
      int64_t due = std::chrono::duration_cast<std::chrono::microseconds>(next->time_since_epoch()).count();
      if (due > target) break;
      step_to(due);
      fn = timers_.pop_due(monotonic_time());
      run_at_instant = due == instant ? run_at_instant + 1 : 1;
      instant = due;
    }
    if (run_at_instant > kMaxTimersAtOneInstant)
      throw std::logic_error("ManualClock::advance: timers keep scheduling timers with no delay");
    if (fn) run_guarded(*fn);
  }
  step_to(target);
  // Under mutex_, so no waiter can unregister (and destroy its cv) meanwhile.
  std::lock_guard lock(mutex_);
  for (std::condition_variable* cv : waiting_) cv->notify_all();
}

size_t ManualClock::pending_timers() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

std::string format_rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  // Exactly what format_rfc3339 writes.
  if (text.size() != 20 || text[10] != 'T' || text[19] != 'Z') return std::nullopt;
  auto t = parse_iso8601(text);
  if (!t) return std::nullopt;
  return t->seconds;
}

std::optional<int64_t> unix_from_civil(int year, int month, int day, int hour, int minute, int second) {
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59)
    return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDaysIn[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  // Days since 1970-01-01 (H. Hinnant's days_from_civil).
  const int64_t y = month <= 2 ? year - 1 : year;
  const int64_t era = y / 400;  // y >= 0
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

std::optional<UnixTime> parse_iso8601(std::string_view s) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!scan::digits(s, pos, 4, year) || !scan::literal(s, pos, '-') || !scan::digits(s, pos, 2, month) ||
      !scan::literal(s, pos, '-') || !scan::digits(s, pos, 2, day))
    return std::nullopt;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!scan::digits(s, pos, 2, hour) || !scan::literal(s, pos, ':') || !scan::digits(s, pos, 2, minute) ||
      !scan::literal(s, pos, ':') || !scan::digits(s, pos, 2, second))
    return std::nullopt;
  int32_t micros = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    const size_t first = pos;
    int32_t scale = 100000;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, scale /= 10) micros += (s[pos] - '0') * scale;
    if (pos == first) return std::nullopt;
  }
  int offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om = 0;
    if (!scan::digits(s, pos, 2, oh)) return std::nullopt;
    if (pos < s.size()) {
      scan::literal(s, pos, ':');
      if (!scan::digits(s, pos, 2, om)) return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;  // a time without its offset names no instant
  }
  if (pos != s.size()) return std::nullopt;
  auto seconds = unix_from_civil(year, month, day, hour, minute, second);
  if (!seconds) return std::nullopt;
  return UnixTime{*seconds - offset_seconds, micros};
}

}  // namespace byoc
