// ComputeBudget: how long a computation (a placement solver) may run, in the
// machine's monotonic time. It bounds CPU work, so it reads the real clock
// whatever clock the caller's components use; times that mean something to
// users (expiry, timeouts, backoff) come from an injected Clock instead.
// Header-only, for the pure libraries that link nothing. Not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>

namespace byoc {

class ComputeBudget {
 public:
  explicit ComputeBudget(std::chrono::milliseconds limit) : deadline_(std::chrono::steady_clock::now() + limit) {}
  bool spent() const { return std::chrono::steady_clock::now() >= deadline_; }
  // What is left, at least `floor`.
  std::chrono::milliseconds left(std::chrono::milliseconds floor = std::chrono::milliseconds(0)) const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    return std::max(left, floor);
  }

 private:
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace byoc
