// The kubernetes runtime's version rollouts as decisions (version_rollout.h):
// which image a version name runs, and each move of a rollout from what the
// informers hold — nothing moves at or after not_after, one replica at a
// time and only with every other one ready, the next once the replaced pod
// is ready on the new image, a step not ready within its bound put back and
// named — and the record on disk.
#include "agent/runtimes/kubernetes/version_rollout.h"

#include <gtest/gtest.h>

#include <set>

#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent::kube_runtime {
namespace {

const std::string kOld = "docker.io/yandex/clickhouse-server:18.16.1";
const std::string kNew = "registry.example/clickhouse-server@sha256:" + std::string(64, 'a');
constexpr int64_t kNow = 1'800'000'000;

PodView pod(const std::string& image, ReplicaState state = ReplicaState::kRunning) {
  PodView p;
  p.exists = true;
  p.image = image;
  p.state = state;
  p.up = state == ReplicaState::kRunning;
  return p;
}

// `shards` × `replicas`, every pod ready on kOld but those listed as on kNew ("s-o").
std::vector<ShardView> cluster(int shards, int replicas, const std::set<std::string>& on_new = {}) {
  std::vector<ShardView> out(static_cast<size_t>(shards));
  for (int s = 0; s < shards; ++s) {
    out[static_cast<size_t>(s)].settled = true;
    for (int o = 0; o < replicas; ++o)
      out[static_cast<size_t>(s)].pods.push_back(
          pod(on_new.count(std::to_string(s + 1) + "-" + std::to_string(o)) ? kNew : kOld));
  }
  return out;
}

ServiceSpec sized(int shards, int replicas, int cpu_millis = 1000, int memory_mib = 4096) {
  ServiceSpec s;
  s.name = "orders";
  s.shards = shards;
  s.replicas = replicas;
  s.cpu_millis = cpu_millis;
  s.memory_mib = memory_mib;
  return s;
}

TEST(VersionImages, AVersionRunsItsListedImageAndTheDefaultItsTagWithoutAList) {
  VersionList listed = parse_versions(R"({"clickhouse":{"18.16.1":{"binary":"/usr/sbin/clickhouse-server"},)"
                                      R"("24.8":{"image":")" + kNew + R"("}}})");
  EXPECT_EQ(resolve_image(listed, "24.8", ""), kNew);
  // A list that has the name with a binary only: not Kubernetes' to run.
  EXPECT_EQ(resolve_image(listed, "18.16.1", ""), std::nullopt);
  EXPECT_EQ(resolve_image(listed, "25.1", ""), std::nullopt);
  // Without a versions.json: what this runtime always ran for the default, and nothing else.
  EXPECT_EQ(resolve_image(default_versions(), "18.16.1", ""), kOld);
  EXPECT_EQ(resolve_image(default_versions(), "", ""), kOld);
  EXPECT_EQ(resolve_image(default_versions(), "18.16.1", "registry.example/ch"), "registry.example/ch:18.16.1");
  EXPECT_EQ(resolve_image(default_versions(), "24.8", ""), std::nullopt);
}

TEST(VersionRollout, ANewRolloutHoldsEveryPodThenStepsOneReplicaAtATime) {
  VersionRollout r = hold_all("upg-1", 0, kNew, sized(2, 2));
  EXPECT_EQ(r.partitions, (std::vector<int>{2, 2}));
  EXPECT_EQ(replicas_done(r, 2, 2), 0);
  // A StatefulSet whose controller hasn't seen the apply yet: no step.
  auto views = cluster(2, 2);
  views[1].settled = false;
  RolloutMove move = advance(r, views, 2, kNow);
  EXPECT_FALSE(move.apply);
  EXPECT_EQ(r.step_shard, 0);
  // The highest ordinal of the first shard first.
  move = advance(r, cluster(2, 2), 2, kNow);
  EXPECT_TRUE(move.changed && move.apply);
  EXPECT_EQ(r.partitions, (std::vector<int>{1, 2}));
  EXPECT_EQ(std::make_pair(r.step_shard, r.step_ordinal), std::make_pair(1, 1));
  EXPECT_EQ(replicas_done(r, 2, 2), 0);  // the step's replica counts once it is ready
  // The old pod still serves, then the new one starts: the step goes on.
  EXPECT_FALSE(advance(r, cluster(2, 2), 2, kNow + 10).changed);
  auto starting = cluster(2, 2);
  starting[0].pods[1] = pod(kNew, ReplicaState::kStarting);
  EXPECT_FALSE(advance(r, starting, 2, kNow + 20).changed);
  // Ready on the new image: the step ends, and the next begins in a later round.
  move = advance(r, cluster(2, 2, {"1-1"}), 2, kNow + 30);
  EXPECT_TRUE(move.changed);
  EXPECT_FALSE(move.apply);
  EXPECT_EQ(r.step_shard, 0);
  EXPECT_EQ(replicas_done(r, 2, 2), 1);
  // Another replica not ready (the one just replaced, or any other): no step.
  auto one_down = cluster(2, 2, {"1-1"});
  one_down[1].pods[0].state = ReplicaState::kRestarting;
  EXPECT_FALSE(advance(r, one_down, 2, kNow + 31).apply);
  move = advance(r, cluster(2, 2, {"1-1"}), 2, kNow + 32);
  EXPECT_TRUE(move.apply);
  EXPECT_EQ(r.partitions, (std::vector<int>{0, 2}));
  // ... and so on to the last, then done: no partition left.
  advance(r, cluster(2, 2, {"1-0", "1-1"}), 2, kNow + 40);
  advance(r, cluster(2, 2, {"1-0", "1-1"}), 2, kNow + 41);
  EXPECT_EQ(r.partitions, (std::vector<int>{0, 1}));
  advance(r, cluster(2, 2, {"1-0", "1-1", "2-1"}), 2, kNow + 50);
  advance(r, cluster(2, 2, {"1-0", "1-1", "2-1"}), 2, kNow + 51);
  advance(r, cluster(2, 2, {"1-0", "1-1", "2-0", "2-1"}), 2, kNow + 60);
  EXPECT_EQ(r.state, "rolling");
  move = advance(r, cluster(2, 2, {"1-0", "1-1", "2-0", "2-1"}), 2, kNow + 61);
  EXPECT_TRUE(move.changed && move.apply);
  EXPECT_EQ(r.state, "done");
  EXPECT_TRUE(r.partitions.empty());
  EXPECT_EQ(replicas_done(r, 2, 2), 4);
  EXPECT_FALSE(advance(r, cluster(2, 2), 2, kNow + 70).changed);
}

TEST(VersionRollout, NoStepBeginsAtOrAfterNotAfterAndAStepBegunBeforeRunsToItsEnd) {
  VersionRollout r = hold_all("upg-1", kNow + 100, kNew, sized(1, 3));
  advance(r, cluster(1, 3), 3, kNow + 99);  // a second before the close: a step begins
  EXPECT_EQ(r.partitions, (std::vector<int>{2}));
  // The window closes during the step: it runs to its end...
  EXPECT_FALSE(advance(r, cluster(1, 3), 3, kNow + 150).changed);
  EXPECT_TRUE(advance(r, cluster(1, 3, {"1-2"}), 3, kNow + 160).changed);
  // ...and no other begins: the pods stay held, the rollout waits.
  RolloutMove move = advance(r, cluster(1, 3, {"1-2"}), 3, kNow + 100 + 60);
  EXPECT_TRUE(move.changed);
  EXPECT_FALSE(move.apply);
  EXPECT_EQ(r.state, "waiting");
  EXPECT_EQ(r.partitions, (std::vector<int>{2}));
  EXPECT_FALSE(advance(r, cluster(1, 3, {"1-2"}), 3, kNow + 100).changed);  // at not_after exactly, too
  EXPECT_EQ(replicas_done(r, 1, 3), 1);
  // The next window moves not_after: it goes on.
  r.not_after = kNow + 10'000;
  move = advance(r, cluster(1, 3, {"1-2"}), 3, kNow + 5'000);
  EXPECT_TRUE(move.apply);
  EXPECT_EQ(r.state, "rolling");
  EXPECT_EQ(r.partitions, (std::vector<int>{1}));
}

TEST(VersionRollout, AStepNotReadyWithinItsBoundGoesBackAndStopsTheRollout) {
  for (bool started : {false, true}) {
    VersionRollout r = hold_all("upg-1", 0, kNew, sized(2, 2));
    advance(r, cluster(2, 2), 2, kNow);
    auto failing = cluster(2, 2);
    // Never started (the image can't be pulled, it crashes) or started and never ready (its /ping).
    failing[0].pods[1] = pod(kNew, started ? ReplicaState::kStarting : ReplicaState::kRestarting);
    failing[0].pods[1].up = started;
    EXPECT_FALSE(advance(r, failing, 2, kNow + kStepBound.count() - 1).changed);
    RolloutMove move = advance(r, failing, 2, kNow + kStepBound.count());
    EXPECT_TRUE(move.changed && move.apply) << started;
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.failed_shard, 1);
    EXPECT_EQ(r.failed_replica, 2);
    EXPECT_EQ(r.failed_check, started ? "ping" : "start");
    EXPECT_EQ(r.partitions, (std::vector<int>{2, 2}));  // above the failed pod again
    EXPECT_EQ(replicas_done(r, 2, 2), 0);
    // Deleted, it comes back on the old revision (the controller's, below the partition).
    move = advance(r, failing, 2, kNow + kStepBound.count() + 1);
    EXPECT_EQ(std::make_pair(move.delete_shard, move.delete_ordinal), std::make_pair(1, 1));
    EXPECT_TRUE(move.changed && r.pod_deleted);
    // Once: the informers' copy may still show it while the controller makes the new one.
    EXPECT_EQ(advance(r, failing, 2, kNow + kStepBound.count() + 2).delete_shard, 0);
    failing[0].pods[1].terminating = true;
    EXPECT_FALSE(advance(r, failing, 2, kNow + kStepBound.count() + 3).changed);
    EXPECT_TRUE(advance(r, cluster(2, 2), 2, kNow + kStepBound.count() + 30).changed);
    EXPECT_EQ(r.step_shard, 0);
    EXPECT_FALSE(r.restoring || r.pod_deleted);
    // Stopped: the same request leaves it so.
    EXPECT_FALSE(advance(r, cluster(2, 2), 2, kNow + 1'000).changed);
    EXPECT_EQ(r.state, "failed");
  }
}

// A resize keeps the image: a pod is on the target once it was made from
// the StatefulSet's last template (its revision), and only once the
// controller has seen the last apply.
TEST(VersionRollout, AResizeStepEndsOnTheRevisionNotTheImage) {
  VersionRollout r = hold_all("resize-1", 0, kOld, sized(1, 2, 2000, 8192));
  EXPECT_TRUE(same_target(r, kOld, sized(1, 2, 2000, 8192)));
  EXPECT_FALSE(same_target(r, kOld, sized(1, 2, 1000, 8192)));
  EXPECT_FALSE(same_target(r, kNew, sized(1, 2, 2000, 8192)));
  auto revisions = [](const std::string& update, const std::string& pod0, const std::string& pod1, bool settled = true) {
    auto views = cluster(1, 2);
    views[0].settled = settled;
    views[0].update_revision = update;
    views[0].pods[0].revision = pod0;
    views[0].pods[1].revision = pod1;
    return views;
  };
  EXPECT_TRUE(advance(r, revisions("r2", "r1", "r1"), 2, kNow).apply);
  EXPECT_EQ(std::make_pair(r.step_shard, r.step_ordinal), std::make_pair(1, 1));
  EXPECT_EQ(r.step_revision, "r1");
  // Same image, the revision it began on: the step goes on. Made anew (the
  // pod itself says so), it ends, the set's controller settled or not.
  EXPECT_FALSE(advance(r, revisions("r2", "r1", "r1"), 2, kNow + 10).changed);
  auto starting = revisions("r2", "r1", "r2", false);
  starting[0].pods[1].state = ReplicaState::kStarting;
  EXPECT_FALSE(advance(r, starting, 2, kNow + 11).changed);
  EXPECT_TRUE(advance(r, revisions("r2", "r1", "r2", false), 2, kNow + 12).changed);
  EXPECT_EQ(r.step_shard, 0);
  // Without the revision it began on (a record from before), the set's
  // updateRevision decides, once its controller has seen the last apply.
  VersionRollout old = r;
  old.step_shard = 1;
  old.step_ordinal = 1;
  old.step_started = kNow + 12;
  EXPECT_FALSE(advance(old, revisions("r2", "r1", "r2", false), 2, kNow + 12).changed);
  EXPECT_FALSE(advance(old, revisions("r2", "r1", "r1"), 2, kNow + 12).changed);
  EXPECT_TRUE(advance(old, revisions("r2", "r1", "r2"), 2, kNow + 12).changed);
  EXPECT_EQ(replicas_done(r, 1, 2), 1);
  // A step that fails goes back: done once the pod is back on the old revision.
  EXPECT_TRUE(advance(r, revisions("r2", "r1", "r2"), 2, kNow + 13).apply);
  EXPECT_EQ(r.step_ordinal, 0);
  auto failing = revisions("r2", "r2", "r2");
  failing[0].pods[0].state = ReplicaState::kStarting;
  EXPECT_TRUE(advance(r, failing, 2, kNow + 13 + kStepBound.count()).apply);
  EXPECT_EQ(r.state, "failed");
  EXPECT_EQ(advance(r, failing, 2, kNow + 14 + kStepBound.count()).delete_ordinal, 0);
  EXPECT_FALSE(advance(r, revisions("r2", "r2", "r2"), 2, kNow + 15 + kStepBound.count()).changed);
  EXPECT_TRUE(advance(r, revisions("r2", "r1", "r2"), 2, kNow + 16 + kStepBound.count()).changed);
  EXPECT_EQ(r.step_shard, 0);
}

// A template applied again during a step (a password, say) makes another
// revision: the step's pod, made anew from either, has moved.
TEST(VersionRollout, AStepEndsOnAnyRevisionNewerThanTheOneItBeganOn) {
  VersionRollout r = hold_all("resize-1", 0, kOld, sized(1, 2, 2000, 8192));
  auto views = cluster(1, 2);
  views[0].update_revision = "r2";
  views[0].pods[0].revision = views[0].pods[1].revision = "r1";
  advance(r, views, 2, kNow);
  EXPECT_EQ(r.step_revision, "r1");
  views[0].update_revision = "r3";
  views[0].pods[1].revision = "r2";
  EXPECT_TRUE(advance(r, views, 2, kNow + 10).changed);
  EXPECT_EQ(r.step_shard, 0);
  // A pod that runs the updateRevision already when its step begins: done at once.
  views[0].pods[0].revision = "r3";
  advance(r, views, 2, kNow + 11);
  EXPECT_EQ(r.step_revision, "");
  EXPECT_TRUE(advance(r, views, 2, kNow + 12).changed);
  EXPECT_EQ(r.step_shard, 0);
  testing::TempDir dir;
  r.step_revision = "r9";
  save_rollout(dir.path(), r);
  EXPECT_EQ(load_rollout(dir.path())->step_revision, "r9");
}

TEST(VersionRollout, TheRecordSurvivesARestartWhole) {
  testing::TempDir dir;
  EXPECT_EQ(load_rollout(dir.path()), std::nullopt);
  VersionRollout r = hold_all("upg-1", kNow + 100, kNew, sized(3, 2));
  advance(r, cluster(3, 2), 2, kNow);
  r.failed_check = "ping";
  r.pod_deleted = true;
  save_rollout(dir.path(), r);
  EXPECT_EQ(load_rollout(dir.path()), r);
  remove_rollout(dir.path());
  EXPECT_EQ(load_rollout(dir.path()), std::nullopt);
  files::write_atomic(dir.path() / "rollout.json", R"({"id":"x"})", 0600);
  EXPECT_EQ(testing::error_code([&] { load_rollout(dir.path()); }), "internal");
}

}  // namespace
}  // namespace byoc::agent::kube_runtime
