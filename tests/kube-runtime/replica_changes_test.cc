// Which replica of a Kubernetes service may serve, and replicas joining and
// leaving (replica_changes.h), as decisions alone; and their record on disk.
#include "agent/runtimes/kubernetes/replica_changes.h"

#include <gtest/gtest.h>

#include "agent/runtimes/kubernetes/service_records.h"
#include "testing/testing.h"

namespace byoc::agent::kube_runtime {
namespace {

using Kind = ReplicaMove::Kind;
constexpr int64_t kNow = 1'800'000'000;

PodSeen answering(int shard, int ordinal, bool serving = false) {
  PodSeen p;
  p.shard = shard;
  p.ordinal = ordinal;
  p.answers = true;
  p.serving = serving;
  p.ready = serving;
  return p;
}

std::string pod(int shard, int ordinal) { return "orders-s" + std::to_string(shard) + "-" + std::to_string(ordinal); }

TEST(ReplicaChanges, ANewServiceJoinsNothingAndAGrownOneJoinsItsNewOrdinals) {
  ReplicaChanges changes;
  note_replicas(changes, "orders", 2, 0, 3, kNow);
  EXPECT_TRUE(changes.empty()) << "a new service's replicas all start empty";

  note_replicas(changes, "orders", 2, 3, 4, kNow);
  EXPECT_EQ(changes.joining, (std::map<std::string, int64_t>{{pod(1, 3), kNow}, {pod(2, 3), kNow}}));
  EXPECT_EQ(outside_cluster(changes), (std::set<std::string>{pod(1, 3), pod(2, 3)}));
  EXPECT_EQ(held_replicas(changes, 2, 4), (std::vector<int>{4, 4}));

  // Shrunk before they joined: they leave (they may have made tables).
  note_replicas(changes, "orders", 2, 4, 2, kNow + 5);
  EXPECT_TRUE(changes.joining.empty());
  EXPECT_EQ(changes.leaving.size(), 4u);
  EXPECT_EQ(changes.leaving.at(pod(1, 3)), (LeavingReplica{1, 3, kNow + 5, true, false, false}));
  EXPECT_EQ(changes.leaving.at(pod(1, 2)), (LeavingReplica{1, 2, kNow + 5, false, false, false}));
  EXPECT_EQ(held_replicas(changes, 2, 2), (std::vector<int>{4, 4}));
}

TEST(ReplicaChanges, OneThatNeverServedGoesWithoutTheWaitAndAsItIsWhenItDoesNotAnswer) {
  ReplicaChanges changes;
  note_replicas(changes, "orders", 1, 2, 3, kNow);
  note_replicas(changes, "orders", 1, 3, 2, kNow + 1);  // never scheduled: scaled back
  std::map<std::string, PodSeen> pods = {{pod(1, 0), answering(1, 0, true)}, {pod(1, 1), answering(1, 1, true)}};
  EXPECT_EQ(plan_replica_moves(changes, "orders", 1, 2, pods, kNow + 1),
            (std::vector<ReplicaMove>{{Kind::kRelease, pod(1, 2), "", {}, {}}}));
  PodSeen pending;
  pending.shard = 1;
  pending.ordinal = 2;
  pending.pending = true;
  pods[pod(1, 2)] = pending;
  EXPECT_EQ(plan_replica_moves(changes, "orders", 1, 2, pods, kNow + 1),
            (std::vector<ReplicaMove>{{Kind::kRelease, pod(1, 2), "", {}, {}}}));
  // One that ran and is briefly not ready may have joined ZooKeeper: waited for.
  pods[pod(1, 2)].pending = false;
  EXPECT_TRUE(plan_replica_moves(changes, "orders", 1, 2, pods, kNow + 1).empty());
  // Answering, its tables go at once (it may have joined ZooKeeper): nobody
  // has anything of it to catch up with.
  pods[pod(1, 2)] = answering(1, 2);
  EXPECT_EQ(plan_replica_moves(changes, "orders", 1, 2, pods, kNow + 1),
            (std::vector<ReplicaMove>{{Kind::kDrain, pod(1, 2), "", {}, {}}}));
  EXPECT_EQ(scaling_reason(changes, {}, kNow + kLeaveLingerSeconds + kScaleBoundSeconds + 5), "scaling");

  // Added back before it went: it has nothing of its own, so it joins.
  note_replicas(changes, "orders", 1, 2, 3, kNow + 2);
  EXPECT_EQ(changes.joining, (std::map<std::string, int64_t>{{pod(1, 2), kNow + 2}}));
}

TEST(ReplicaChanges, OneAddedBackWhileLeavingStaysUnlessItsTablesWereBeingDropped) {
  ReplicaChanges changes;
  note_replicas(changes, "orders", 1, 4, 1, kNow);
  changes.leaving.at(pod(1, 3)).dropped = true;
  changes.leaving.at(pod(1, 2)).dropping = true;  // cut short: some tables may be gone
  EXPECT_EQ(held_replicas(changes, 1, 1), (std::vector<int>{3})) << "the dropped one may go, the others not yet";

  note_replicas(changes, "orders", 1, 1, 4, kNow + 10);
  EXPECT_TRUE(changes.leaving.empty());
  // Still with its tables and its place in ZooKeeper: it catches up and
  // serves. With them (maybe) dropped it has nothing: it joins as a new one.
  EXPECT_EQ(changes.joining, (std::map<std::string, int64_t>{{pod(1, 2), kNow + 10}, {pod(1, 3), kNow + 10}}));
}

TEST(ReplicaChanges, WhoServesFirstAndWhoCatchesUpWithWhom) {
  ReplicaChanges none;
  // Nobody serves: each answering replica serves (the data is on its own volume).
  std::map<std::string, PodSeen> pods = {{pod(1, 0), answering(1, 0)}, {pod(1, 1), answering(1, 1)}};
  EXPECT_EQ(plan_replica_moves(none, "orders", 1, 2, pods, kNow),
            (std::vector<ReplicaMove>{{Kind::kServe, pod(1, 0), "", {}}, {Kind::kServe, pod(1, 1), "", {}}}));

  // One serves: the other catches up with it first (a rollout's replaced pod too).
  pods[pod(1, 0)] = answering(1, 0, true);
  EXPECT_EQ(plan_replica_moves(none, "orders", 1, 2, pods, kNow),
            (std::vector<ReplicaMove>{{Kind::kJoin, pod(1, 1), pod(1, 0), {}}}));

  // Not answering, or on its way out: nothing.
  pods[pod(1, 1)].answers = false;
  EXPECT_TRUE(plan_replica_moves(none, "orders", 1, 2, pods, kNow).empty());
  pods[pod(1, 1)].answers = true;
  pods[pod(1, 1)].deleting = true;
  EXPECT_TRUE(plan_replica_moves(none, "orders", 1, 2, pods, kNow).empty());

  // Serving but not Ready (its /ping fails): no source.
  pods[pod(1, 1)].deleting = false;
  pods[pod(1, 0)].ready = false;
  EXPECT_EQ(plan_replica_moves(none, "orders", 1, 2, pods, kNow),
            (std::vector<ReplicaMove>{{Kind::kServe, pod(1, 1), "", {}}}));
}

TEST(ReplicaChanges, AJoiningReplicaNeverServesWithoutASourceAndJoinsTheClusterOnceItServes) {
  ReplicaChanges changes;
  note_replicas(changes, "orders", 1, 1, 2, kNow);
  std::map<std::string, PodSeen> pods = {{pod(1, 0), answering(1, 0)}, {pod(1, 1), answering(1, 1)}};
  pods[pod(1, 0)].answers = false;  // the only other replica is down
  EXPECT_TRUE(plan_replica_moves(changes, "orders", 1, 2, pods, kNow).empty());

  pods[pod(1, 0)] = answering(1, 0, true);
  EXPECT_EQ(plan_replica_moves(changes, "orders", 1, 2, pods, kNow),
            (std::vector<ReplicaMove>{{Kind::kJoin, pod(1, 1), pod(1, 0), {}}}));
  pods[pod(1, 1)] = answering(1, 1, true);
  EXPECT_EQ(plan_replica_moves(changes, "orders", 1, 2, pods, kNow),
            (std::vector<ReplicaMove>{{Kind::kJoined, pod(1, 1), "", {}}}));
  // A joining replica is never another's source: with none serving, the
  // other serves as it is.
  pods[pod(1, 0)].serving = false;
  pods[pod(1, 1)].serving = false;
  EXPECT_EQ(plan_replica_moves(changes, "orders", 1, 2, pods, kNow),
            (std::vector<ReplicaMove>{{Kind::kServe, pod(1, 0), "", {}}}));
}

TEST(ReplicaChanges, ALeavingReplicaStopsServingThenIsDrainedAfterTheLingerThenForgotten) {
  ReplicaChanges changes;
  note_replicas(changes, "orders", 2, 3, 2, kNow);
  changes.leaving.erase(pod(2, 2));  // only shard 1's here
  std::map<std::string, PodSeen> pods = {{pod(1, 0), answering(1, 0, true)}, {pod(1, 1), answering(1, 1, true)},
                                         {pod(1, 2), answering(1, 2, true)}, {pod(2, 0), answering(2, 0, true)},
                                         {pod(2, 1), answering(2, 1, true)}};
  auto plan = [&](int64_t at) { return plan_replica_moves(changes, "orders", 2, 2, pods, at); };
  EXPECT_EQ(plan(kNow),
            (std::vector<ReplicaMove>{{Kind::kUnserve, pod(1, 2), "", {}}}));
  pods[pod(1, 2)].serving = pods[pod(1, 2)].ready = false;
  EXPECT_TRUE(plan(kNow + kLeaveLingerSeconds - 1).empty());
  // Caught up with by its shard; out of the cluster of every replica of every shard.
  const std::vector<ReplicaMove> drain = {
      {Kind::kDrain, pod(1, 2), "", {pod(1, 0), pod(1, 1)}, {pod(1, 0), pod(1, 1), pod(2, 0), pod(2, 1)}}};
  EXPECT_EQ(plan(kNow + kLeaveLingerSeconds), drain);

  // One that doesn't answer is waited for: what was written to it alone is
  // only there. Past the bound the service says so.
  pods[pod(1, 2)].answers = false;
  EXPECT_TRUE(plan(kNow + kLeaveLingerSeconds).empty());
  EXPECT_EQ(scaling_reason(changes, pods, kNow + kLeaveLingerSeconds), "scaling");
  EXPECT_EQ(scaling_reason(changes, pods, kNow + kLeaveLingerSeconds + kScaleBoundSeconds + 1), "scale_failed");

  changes.leaving.at(pod(1, 2)).dropped = true;
  EXPECT_EQ(held_replicas(changes, 2, 2), (std::vector<int>{2, 2}));
  EXPECT_TRUE(plan(kNow + kLeaveLingerSeconds).empty())
      << "its pod is still there";
  pods.erase(pod(1, 2));
  EXPECT_EQ(plan(kNow + kLeaveLingerSeconds),
            (std::vector<ReplicaMove>{{Kind::kForget, pod(1, 2), "", {}, {}}}));
  changes.leaving.clear();
  EXPECT_EQ(scaling_reason(changes, pods, kNow), std::nullopt);
}

TEST(ReplicaChanges, AJoinTakingTooLongIsReported) {
  ReplicaChanges changes;
  note_replicas(changes, "orders", 1, 1, 2, kNow);
  EXPECT_EQ(scaling_reason(changes, {}, kNow + kScaleBoundSeconds), "scaling");
  EXPECT_EQ(scaling_reason(changes, {}, kNow + kScaleBoundSeconds + 1), "scale_failed");
}

TEST(ReplicaChanges, TheRecordSurvivesARestart) {
  testing::TempDir root("byoc-replica-changes");
  ServiceRecord record;
  record.spec.name = "orders";
  record.spec.clickhouse_version = "18.16.1";
  record.spec.shards = 1;
  record.spec.replicas = 2;
  record.spec.cpu_millis = 1000;
  record.spec.memory_mib = 4096;
  record.spec.default_password_sha256_hex = std::string(64, 'a');
  note_replicas(record.replicas, "orders", 1, 3, 2, kNow);
  record.replicas.leaving.at(pod(1, 2)).dropping = true;
  record.replicas.leaving[pod(1, 3)] = LeavingReplica{1, 3, kNow + 2, true, false, true};
  record.replicas.joining[pod(1, 1)] = kNow + 1;
  save_spec(root.path(), record);
  auto loaded = load_service_records(root.path());
  ASSERT_TRUE(loaded.count("orders"));
  EXPECT_EQ(loaded["orders"].replicas, record.replicas);
}

}  // namespace
}  // namespace byoc::agent::kube_runtime
