// Retry delays for failed reconciles: exponential from `base`, capped at
// `cap`, with "equal jitter" (half fixed, half random) so that many failing
// resources don't retry in lockstep. Pure: the random draw is an input.
#pragma once

#include <chrono>

namespace byoc::controllers {

struct Backoff {
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{30'000};

  // failures ≥ 1; unit_random in [0, 1).
  std::chrono::milliseconds delay(int failures, double unit_random) const {
    double d = static_cast<double>(base.count());
    for (int i = 1; i < failures && d < static_cast<double>(cap.count()); ++i) d *= 2;
    if (d > static_cast<double>(cap.count())) d = static_cast<double>(cap.count());
    return std::chrono::milliseconds(static_cast<long>(d / 2 + unit_random * d / 2));
  }
};

}  // namespace byoc::controllers
