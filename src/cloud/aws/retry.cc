#include "cloud/aws/retry.h"

#include <algorithm>
#include <array>

namespace byoc::aws {
namespace {

// The AWS SDKs' standard-mode lists (the SDK reference guide, "Retry
// behavior"; the Rust SDK's aws-runtime retries/classifiers spells them out).
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// InternalError is S3's and EC2's name for a server fault; it comes with a
// 500 most of the time, and is retried when it doesn't.
constexpr std::array<std::string_view, 3> kTransientCodes = {"RequestTimeout", "RequestTimeoutException",
                                                             "InternalError"};

}  // namespace

bool is_throttling_error(std::string_view code) {
  return std::find(kThrottlingCodes.begin(), kThrottlingCodes.end(), code) != kThrottlingCodes.end();
}

bool is_retryable(int status, std::string_view code) {
  if (status == 0 || status == 500 || status == 502 || status == 503 || status == 504) return true;
  if (is_throttling_error(code)) return true;
  return std::find(kTransientCodes.begin(), kTransientCodes.end(), code) != kTransientCodes.end();
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempt, double jitter) {
  jitter = std::clamp(jitter, 0.0, 1.0);
  // Doubling stops at the cap, so a large attempt count cannot overflow.
  int64_t ceiling = std::max<int64_t>(policy.base.count(), 0);
  for (int i = 1; i < attempt && ceiling > 0 && ceiling < policy.max_backoff.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, policy.max_backoff.count());
  return std::chrono::milliseconds(static_cast<int64_t>(jitter * static_cast<double>(ceiling)));
}

}  // namespace byoc::aws
