// When an AWS call is tried again, and after how long: the SDKs' "standard"
// retry mode. Throttling errors, transient errors (RequestTimeout…), 500,
// 502, 503, 504 and connections that got no answer are retried, up to
// max_attempts in all, after a full-jitter exponential backoff capped at
// max_backoff. Pure: the jitter is a parameter, the waiting is the caller's
// (on its injected clock).
#pragma once

#include <chrono>
#include <string_view>

namespace byoc::aws {

struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds max_backoff{20'000};
};

bool is_throttling_error(std::string_view code);
// status 0 means no answer came at all (a connection or TLS failure, a timeout).
bool is_retryable(int status, std::string_view code);
// The wait before attempt `attempt` + 1 (attempt counts from 1), for
// `jitter` in [0, 1): jitter * min(max_backoff, base * 2^(attempt-1)).
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempt, double jitter);

}  // namespace byoc::aws
