#include <gtest/gtest.h>

#include "server/presence.h"
#include "server/waiters.h"

namespace byoc::server {
namespace {

TEST(RevisionWaiters, WakesOnlyTheChangedEnvironment) {
  RevisionWaiters w;
  int a = 0, b = 0;
  EXPECT_NE(w.wait("env-a", 3, [&] { ++a; }), 0u);
  EXPECT_NE(w.wait("env-b", 3, [&] { ++b; }), 0u);
  w.notify("env-a", 4);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(w.waiting(), 1u);
}

TEST(RevisionWaiters, NotifyBeforeWaitStillWakes) {
  RevisionWaiters w;
  w.notify("env-a", 5);
  int woken = 0;
  EXPECT_EQ(w.wait("env-a", 4, [&] { ++woken; }), 0u);
  EXPECT_EQ(woken, 1);
}

TEST(RevisionWaiters, SameRevisionDoesNotWake) {
  RevisionWaiters w;
  int woken = 0;
  w.wait("env-a", 5, [&] { ++woken; });
  w.notify("env-a", 5);
  EXPECT_EQ(woken, 0);
}

TEST(RevisionWaiters, CancelRemovesExactlyOnce) {
  RevisionWaiters w;
  int woken = 0;
  uint64_t t = w.wait("env-a", 1, [&] { ++woken; });
  EXPECT_TRUE(w.cancel("env-a", t));
  EXPECT_FALSE(w.cancel("env-a", t));
  w.notify("env-a", 9);
  EXPECT_EQ(woken, 0);
}

TEST(AgentPresence, DisconnectsAfterGraceWithoutSleeping) {
  ManualClock clock;
  AgentPresence p(clock, 45);
  p.begin("env-a");
  clock.advance(std::chrono::seconds(100));
  EXPECT_TRUE(p.connected("env-a"));  // a request is still held open
  p.end("env-a");
  clock.advance(std::chrono::seconds(44));
  EXPECT_TRUE(p.take_disconnected().empty());
  clock.advance(std::chrono::seconds(2));
  EXPECT_FALSE(p.connected("env-a"));
  EXPECT_EQ(p.take_disconnected(), std::vector<std::string>{"env-a"});
  EXPECT_TRUE(p.take_disconnected().empty());
}

}  // namespace
}  // namespace byoc::server
