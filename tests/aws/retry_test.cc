// cloud/aws/retry.h: the SDKs' standard retry mode — which answers are
// retried and the capped full-jitter backoff.
#include "cloud/aws/retry.h"

#include <gtest/gtest.h>

namespace byoc::aws {
namespace {

using std::chrono::milliseconds;

TEST(Retry, ThrottlingCodes) {
  for (const char* code : {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                           "TooManyRequestsException", "ProvisionedThroughputExceededException",
                           "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
                           "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
                           "EC2ThrottledException"}) {
    EXPECT_TRUE(is_throttling_error(code)) << code;
    EXPECT_TRUE(is_retryable(400, code)) << code;
  }
  EXPECT_FALSE(is_throttling_error("throttling"));  // codes are exact
  EXPECT_FALSE(is_throttling_error("RequestTimeout"));
  EXPECT_FALSE(is_throttling_error(""));
}

TEST(Retry, TransientCodesAndStatuses) {
  for (const char* code : {"RequestTimeout", "RequestTimeoutException", "InternalError"})
    EXPECT_TRUE(is_retryable(400, code)) << code;
  for (int status : {0, 500, 502, 503, 504}) EXPECT_TRUE(is_retryable(status, "")) << status;
  for (int status : {200, 400, 401, 403, 404, 409, 501})
    EXPECT_FALSE(is_retryable(status, "ValidationError")) << status;
  EXPECT_FALSE(is_retryable(403, "AccessDenied"));
  EXPECT_FALSE(is_retryable(400, "ExpiredToken"));
}

TEST(Retry, FullJitterExponentialBackoffCapped) {
  RetryPolicy p;  // base 1 s, cap 20 s
  EXPECT_EQ(retry_delay(p, 1, 0.5), milliseconds(500));
  EXPECT_EQ(retry_delay(p, 2, 0.5), milliseconds(1000));
  EXPECT_EQ(retry_delay(p, 3, 0.5), milliseconds(2000));
  EXPECT_EQ(retry_delay(p, 5, 0.999), milliseconds(15984));
  EXPECT_EQ(retry_delay(p, 6, 0.5), milliseconds(10000));  // 32 s capped at 20 s
  EXPECT_EQ(retry_delay(p, 1000000, 0.5), milliseconds(10000));
  EXPECT_EQ(retry_delay(p, 3, 0.0), milliseconds(0));
  // Jitter outside [0, 1) is clamped.
  EXPECT_EQ(retry_delay(p, 1, -3.0), milliseconds(0));
  EXPECT_LE(retry_delay(p, 1, 7.0), milliseconds(1000));
  RetryPolicy fast{5, milliseconds(50), milliseconds(300)};
  EXPECT_EQ(retry_delay(fast, 3, 0.5), milliseconds(100));
  EXPECT_EQ(retry_delay(fast, 4, 0.5), milliseconds(150));
  EXPECT_EQ(retry_delay(RetryPolicy{3, milliseconds(0), milliseconds(10)}, 2'000'000'000, 0.5), milliseconds(0));
}

TEST(Retry, DefaultsAreTheSdkStandardMode) {
  RetryPolicy p;
  EXPECT_EQ(p.max_attempts, 3);
  EXPECT_EQ(p.max_backoff, milliseconds(20'000));
}

}  // namespace
}  // namespace byoc::aws
