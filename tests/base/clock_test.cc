// The clocks' timers and waits. ManualClock tests never sleep: time moves
// only by advance(). The SystemClock tests wait real milliseconds, bounded.
#include "base/clock.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "testing/testing.h"

namespace byoc {
namespace {
using namespace std::chrono_literals;

TEST(ManualClock, AdvanceMovesBothTimesAndSetMovesOnlyTheWallClock) {
  ManualClock clock(1'000);
  MonotonicTime start = clock.monotonic_time();
  clock.advance(90s);
  EXPECT_EQ(clock.unix_seconds(), 1'090);
  EXPECT_EQ(clock.monotonic_time() - start, 90s);
  clock.set_unix_seconds(500);  // the wall clock is set back
  EXPECT_EQ(clock.unix_seconds(), 500);
  EXPECT_EQ(clock.monotonic_time() - start, 90s);
}

TEST(ManualClock, TimersRunInDueOrderOnlyOnceTheirTimeComes) {
  ManualClock clock;
  std::vector<int> ran;
  clock.schedule(3s, [&] { ran.push_back(3); });
  clock.schedule(1s, [&] { ran.push_back(1); });
  clock.schedule(2s, [&] { ran.push_back(21); });
  clock.schedule(2s, [&] { ran.push_back(22); });  // a tie: in the order scheduled
  clock.advance(999ms);
  EXPECT_TRUE(ran.empty());
  clock.advance(1ms);
  EXPECT_EQ(ran, (std::vector<int>{1}));
  clock.advance(5s);
  EXPECT_EQ(ran, (std::vector<int>{1, 21, 22, 3}));
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST(ManualClock, ATimerScheduledByATimerRunsInTheSameAdvanceWhenDue) {
  ManualClock clock;
  std::vector<std::string> ran;
  clock.schedule(1s, [&] {
    ran.push_back("first");
    clock.schedule(1s, [&] { ran.push_back("second"); });
    clock.schedule(1h, [&] { ran.push_back("later"); });
  });
  clock.advance(2s);  // the second is due 1 s after the first ran
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(clock.pending_timers(), 1u);
}

// A timer that reschedules itself with no delay would hold time still
// forever: advance() says so instead of hanging the test. One that
// reschedules itself with a delay just runs once per period.
TEST(ManualClock, ATimerLoopWithNoDelayIsRefusedAndOneWithADelayRunsPerPeriod) {
  ManualClock clock;
  std::function<void()> again = [&] { clock.schedule(0s, again); };
  clock.schedule(1s, again);
  EXPECT_THROW(clock.advance(2s), std::logic_error);

  ManualClock periodic;
  int runs = 0;
  std::function<void()> tick = [&] {
    ++runs;
    periodic.schedule(1s, tick);
  };
  periodic.schedule(1s, tick);
  periodic.advance(10s);
  EXPECT_EQ(runs, 10);
}

TEST(ManualClock, CancelBeforeTheTimeStopsATimerAndAfterItSaysSo) {
  ManualClock clock;
  int ran = 0;
  CancelTimer early = clock.schedule(1s, [&] { ++ran; });
  CancelTimer late = clock.schedule(1s, [&] { ++ran; });
  EXPECT_TRUE(early());
  EXPECT_FALSE(early());  // once only
  clock.advance(1s);
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(late());  // it has run
}

TEST(ManualClock, AThrowingTimerDoesNotStopTheOthers) {
  ManualClock clock;
  int ran = 0;
  clock.schedule(1s, [] { throw std::runtime_error("boom"); });
  clock.schedule(1s, [&] { ++ran; });
  clock.advance(1s);
  EXPECT_EQ(ran, 1);
}

TEST(ManualClock, WaitUntilReturnsWhenTheClockGetsThere) {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  MonotonicTime deadline = clock.monotonic_time() + 1h;
  std::atomic<bool> reached{false};
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    while (!clock.wait_until(lock, cv, deadline)) {
    }
    reached = true;
  });
  clock.advance(59min);
  EXPECT_FALSE(reached.load());
  clock.advance(1min);
  EXPECT_TRUE(testing::eventually([&] { return reached.load(); }, 5s));
  waiter.join();
}

TEST(ManualClock, SleepEndsAtTheDeadlineOrTheStopFlag) {
  ManualClock clock;
  std::atomic<bool> stop{false};
  MonotonicTime deadline = clock.monotonic_time() + 10min;
  auto slept = std::async(std::launch::async, [&] { return clock.sleep_until(deadline, &stop); });
  clock.advance(10min);
  EXPECT_TRUE(slept.get());
  auto stopped = std::async(std::launch::async, [&] { return clock.sleep_for(10min, &stop); });
  stop = true;
  EXPECT_FALSE(stopped.get());
}

TEST(CivilTime, ImpossibleDatesAndYearsOutOfRangeAreRefused) {
  EXPECT_EQ(unix_from_civil(1970, 1, 1, 0, 0, 0), 0);
  EXPECT_EQ(unix_from_civil(2024, 2, 29, 12, 0, 0), 1709208000);
  EXPECT_EQ(unix_from_civil(2023, 2, 29, 0, 0, 0), std::nullopt);
  EXPECT_EQ(unix_from_civil(2027, 4, 31, 0, 0, 0), std::nullopt);
  EXPECT_EQ(unix_from_civil(2027, 1, 1, 24, 0, 0), std::nullopt);
  EXPECT_EQ(unix_from_civil(2027, 1, 1, 0, 0, 60), std::nullopt);
  EXPECT_EQ(unix_from_civil(0, 1, 1, 0, 0, 0), std::nullopt);
  EXPECT_EQ(unix_from_civil(10000, 1, 1, 0, 0, 0), std::nullopt);
}

TEST(CivilTime, Iso8601ReadsOffsetsAndFractions) {
  auto at = [](std::string_view text) -> std::optional<std::pair<int64_t, int32_t>> {
    auto t = parse_iso8601(text);
    if (!t) return std::nullopt;
    return std::make_pair(t->seconds, t->micros);
  };
  EXPECT_EQ(at("2019-12-16T23:48:18Z"), std::make_pair(int64_t{1576540098}, 0));
  EXPECT_EQ(at("2019-12-16T22:48:18-01:00"), std::make_pair(int64_t{1576540098}, 0));
  EXPECT_EQ(at("2019-12-17T00:48:18+0100"), std::make_pair(int64_t{1576540098}, 0));
  EXPECT_EQ(at("2019-12-16 23:48:18.1234567z"), std::make_pair(int64_t{1576540098}, 123456));
  EXPECT_EQ(at("2019-12-16T23:48:18"), std::nullopt) << "no offset: not a point in time";
  EXPECT_EQ(at("2019-02-30T00:00:00Z"), std::nullopt);
  EXPECT_EQ(at("2019-12-16T23:48:18+24:00"), std::nullopt);
  EXPECT_EQ(at("2019-12-16T23:48:18Zjunk"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2019-12-16T23:48:18Z"), 1576540098);
  EXPECT_EQ(parse_rfc3339("2019-12-16T23:48:18.5Z"), std::nullopt) << "the strict form only";
}

TEST(SystemClock, ScheduleRunsOnItsThreadAndCancelPreventsIt) {
  SystemClock clock;
  std::promise<std::thread::id> ran;
  auto ran_on = ran.get_future();
  std::atomic<int> cancelled_ran{0};
  CancelTimer cancel = clock.schedule(50ms, [&] { ++cancelled_ran; });
  clock.schedule(10ms, [&] { ran.set_value(std::this_thread::get_id()); });
  EXPECT_TRUE(cancel());
  ASSERT_EQ(ran_on.wait_for(5s), std::future_status::ready);
  EXPECT_NE(ran_on.get(), std::this_thread::get_id());
  std::promise<void> after;
  clock.schedule(80ms, [&] { after.set_value(); });
  ASSERT_EQ(after.get_future().wait_for(5s), std::future_status::ready);  // past the cancelled one's time
  EXPECT_EQ(cancelled_ran.load(), 0);
}

TEST(SystemClock, StopTimersDropsWhatIsNotDueAndLaterSchedulesDoNothing) {
  SystemClock clock;
  std::atomic<int> ran{0};
  clock.schedule(1h, [&] { ++ran; });
  clock.stop_timers();
  CancelTimer cancel = clock.schedule(0ms, [&] { ++ran; });
  EXPECT_FALSE(cancel());
  EXPECT_EQ(ran.load(), 0);
}

TEST(SystemClock, WaitUntilEndsAtTheDeadline) {
  SystemClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock lock(mutex);
  MonotonicTime deadline = clock.monotonic_time() + 20ms;
  while (!clock.wait_until(lock, cv, deadline)) {
  }
  EXPECT_GE(clock.monotonic_time(), deadline);
}

}  // namespace
}  // namespace byoc
