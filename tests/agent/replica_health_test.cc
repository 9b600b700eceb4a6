// Which replicas the endpoint sends traffic to, as pure bookkeeping: no
// process, a ManualClock for the recheck interval.
#include "agent/runtimes/local/replica_health.h"

#include <gtest/gtest.h>

namespace byoc::agent::local {
namespace {

using namespace std::chrono_literals;
using Names = std::vector<std::string>;
using Set = std::set<std::string>;

class ReplicaHealthTest : public ::testing::Test {
 protected:
  Names due(const std::map<std::string, pid_t>& running) { return health_.due(running, clock_.monotonic_time()); }
  void record(const std::string& r, pid_t pid, bool ok) { health_.record(r, pid, ok, clock_.monotonic_time()); }

  ManualClock clock_;
  ReplicaHealth health_{5s, 2};
};

TEST_F(ReplicaHealthTest, AReplicaJoinsOnlyOnceItsProcessAnswered) {
  EXPECT_EQ(due({{"s1r1", 100}, {"s1r2", 0}}), (Names{"s1r1"}));  // nothing to probe while not running
  EXPECT_TRUE(health_.healthy().empty());
  EXPECT_FALSE(health_.known("s1r1"));
  EXPECT_TRUE(health_.first_process("s1r1"));
  record("s1r1", 100, false);  // still starting
  EXPECT_TRUE(health_.known("s1r1"));
  EXPECT_TRUE(health_.healthy().empty());
  EXPECT_EQ(due({{"s1r1", 100}, {"s1r2", 0}}), (Names{"s1r1"}));  // probed again next round
  record("s1r1", 100, true);
  EXPECT_EQ(health_.healthy(), (Set{"s1r1"}));
  EXPECT_TRUE(health_.answers("s1r1"));
}

TEST_F(ReplicaHealthTest, AHealthyReplicaIsRecheckedOnlyAfterTheInterval) {
  due({{"s1r1", 100}});
  record("s1r1", 100, true);
  EXPECT_TRUE(due({{"s1r1", 100}}).empty());
  clock_.advance(4s);
  EXPECT_TRUE(due({{"s1r1", 100}}).empty());
  clock_.advance(1s);
  EXPECT_EQ(due({{"s1r1", 100}}), (Names{"s1r1"}));
}

TEST_F(ReplicaHealthTest, ADeadProcessIsOutAtOnceAndItsSuccessorStartsUnknown) {
  due({{"s1r1", 100}, {"s1r2", 200}});
  record("s1r1", 100, true);
  record("s1r2", 200, true);
  due({{"s1r1", 0}, {"s1r2", 200}});  // s1r1 died
  EXPECT_EQ(health_.healthy(), (Set{"s1r2"}));
  EXPECT_EQ(due({{"s1r1", 101}, {"s1r2", 200}}), (Names{"s1r1"}));  // restarted as 101
  EXPECT_FALSE(health_.known("s1r1"));
  EXPECT_FALSE(health_.first_process("s1r1"));
  EXPECT_EQ(health_.healthy(), (Set{"s1r2"}));
  // A late answer of the dead process doesn't count for its successor.
  record("s1r1", 100, true);
  EXPECT_EQ(health_.healthy(), (Set{"s1r2"}));
  record("s1r1", 101, true);
  EXPECT_EQ(health_.healthy(), (Set{"s1r1", "s1r2"}));
}

TEST_F(ReplicaHealthTest, ARunningReplicaLeavesAfterFailuresInARowOnly) {
  due({{"s1r1", 100}});
  record("s1r1", 100, true);
  clock_.advance(5s);
  ASSERT_EQ(due({{"s1r1", 100}}), (Names{"s1r1"}));
  record("s1r1", 100, false);  // one slow answer: still in, but probed again at once
  EXPECT_EQ(health_.healthy(), (Set{"s1r1"}));
  EXPECT_EQ(due({{"s1r1", 100}}), (Names{"s1r1"}));
  record("s1r1", 100, true);  // recovered: the count starts over
  clock_.advance(5s);
  due({{"s1r1", 100}});
  record("s1r1", 100, false);
  EXPECT_EQ(health_.healthy(), (Set{"s1r1"}));
  record("s1r1", 100, false);
  EXPECT_TRUE(health_.healthy().empty());
}

TEST_F(ReplicaHealthTest, ReplicasNoLongerInTheServiceAreForgotten) {
  due({{"s1r1", 100}, {"s1r2", 200}});
  record("s1r2", 200, true);
  due({{"s1r1", 100}});
  EXPECT_TRUE(health_.healthy().empty());
  EXPECT_FALSE(health_.known("s1r2"));
}

}  // namespace
}  // namespace byoc::agent::local
