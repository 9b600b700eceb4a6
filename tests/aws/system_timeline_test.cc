// SystemTimeline on a ManualClock: a wait ends when the clock's system time
// reaches its end (also after the wall clock is set, within one slice), and
// stop() ends waits with TimelineStopped. The waiting thread only ever waits
// on the manual clock, which the test moves: nothing sleeps for real.
#include "cloud/aws/upgrade/system_timeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace byoc::aws {
namespace {

using namespace std::chrono_literals;
using plan::Instant;

constexpr int64_t kStart = 1'800'000'000;

class SystemTimelineTest : public ::testing::Test {
 protected:
  // Waits until `t` on another thread; `outcome` says how it ended.
  void wait_in_background(Instant t) {
    waiter = std::thread([this, t] {
      try {
        timeline.wait_until(t);
        outcome = "returned";
      } catch (const TimelineStopped&) {
        outcome = "stopped";
      }
    });
  }
  void join() { waiter.join(); }

  Instant start() const { return Instant(std::chrono::seconds(kStart)); }

  ManualClock clock{kStart};
  SystemTimeline timeline{clock, 10s};
  std::thread waiter;
  std::atomic<const char*> outcome{""};
};

TEST_F(SystemTimelineTest, NowIsTheClocksSystemTimeInWholeSeconds) {
  clock.advance(1500ms);
  EXPECT_EQ(timeline.now(), start() + 1s);
}

TEST_F(SystemTimelineTest, AWaitForThePastReturnsAtOnce) {
  timeline.wait_until(start());
  timeline.wait_until(start() - 1h);
  EXPECT_EQ(clock.monotonic_time(), ManualClock(kStart).monotonic_time());
}

TEST_F(SystemTimelineTest, AWaitEndsWhenTheClockGetsThere) {
  wait_in_background(start() + 1h);
  clock.advance(59min);
  EXPECT_STREQ(outcome.load(), "");  // not before its time
  clock.advance(1min);
  join();
  EXPECT_STREQ(outcome.load(), "returned");
  EXPECT_EQ(timeline.now(), start() + 1h);
}

TEST_F(SystemTimelineTest, AWallClockSetForwardEndsTheWaitWithinOneSlice) {
  wait_in_background(start() + 1h);
  clock.set_unix_seconds(kStart + 2 * 3600);  // monotonic time has not moved
  clock.advance(10s);                          // one slice
  join();
  EXPECT_STREQ(outcome.load(), "returned");
}

TEST_F(SystemTimelineTest, StopEndsAWaitInProgressAndEveryWaitAfter) {
  wait_in_background(start() + 24h);
  timeline.stop();
  join();
  EXPECT_STREQ(outcome.load(), "stopped");
  EXPECT_THROW(timeline.wait_until(start() + 1s), TimelineStopped);
  EXPECT_THROW(timeline.wait_until(start()), TimelineStopped);
}

}  // namespace
}  // namespace byoc::aws
