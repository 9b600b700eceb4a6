// Reconnecting with backoff and jitter: bounded, growing, randomised, reset by a success.
#include <gtest/gtest.h>

#include <set>

#include "agent/sync_client.h"

namespace byoc::agent {
namespace {
using std::chrono::milliseconds;

TEST(RetryBackoff, GrowsExponentiallyWithJitterUpToTheCap) {
  RetryBackoff backoff(42, milliseconds(500), milliseconds(30'000));
  int64_t step = 500;
  for (int failure = 1; failure <= 40; ++failure) {
    int64_t delay = backoff.next_delay().count();
    EXPECT_GE(delay, step / 4) << "failure " << failure;
    EXPECT_LE(delay, step) << "failure " << failure;
    step = std::min<int64_t>(step * 2, 30'000);
  }
  EXPECT_EQ(backoff.failures(), 40);
}

TEST(RetryBackoff, ASuccessStartsOver) {
  RetryBackoff backoff(7);
  for (int i = 0; i < 10; ++i) backoff.next_delay();
  backoff.reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_LE(backoff.next_delay().count(), 500);
}

TEST(RetryBackoff, AgentsDontRetryInLockstep) {
  std::set<int64_t> first_long_delays;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    RetryBackoff backoff(seed);
    for (int i = 0; i < 7; ++i) backoff.next_delay();
    first_long_delays.insert(backoff.next_delay().count());
  }
  EXPECT_GE(first_long_delays.size(), 15u);
}

TEST(RetryBackoff, ManyFailuresNeitherOverflowNorSpin) {
  RetryBackoff backoff(3);
  for (int i = 0; i < 5000; ++i) {
    auto d = backoff.next_delay();
    ASSERT_GE(d.count(), 30'000 / 4 * (i >= 6)) << i;
    ASSERT_LE(d.count(), 30'000);
  }
}

}  // namespace
}  // namespace byoc::agent
