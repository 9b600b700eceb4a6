// The environment controller against a slow cloud on the manual clock: a
// 45-minute create, a create that fails and rolls back then is retried, an
// update, a 20-minute delete, and a server restart (the controller destroyed
// and rebuilt on the same store) at every crash point the cloud passes,
// including between "call sent" and "recorded". Each must converge with
// exactly one stack at a time, and nothing left after delete. Nothing sleeps:
// milliseconds in all.
#include <gtest/gtest.h>

#include <atomic>

#include "controllers/environment_controller.h"
#include "model/topics.h"
#include "slow_cloud.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::controllers::test {
namespace {
using namespace std::chrono_literals;

// One management plane (store, controller) and its cloud, on one clock.
struct World {
  World() {
    store = test_store.open_retrying();
    store->subscribe([this](const std::string& topic, const std::string&) {
      if (topic == model::topics::kEnvironmentDeleted) ++deleted;
    });
    model::Environment env;
    env.id = "env-1";
    env.name = "prod";
    env.cloud = "slow";
    env.region = "us-east-1";
    env.cidr = "10.0.0.0/16";
    env.zones = {"a", "b", "c"};
    env.instance_types = {"m7g.xlarge"};
    store->transact([&](store::Transaction& tx) {
      tx.environments().put(env);
      tx.operations().put(operation("op-create", "environment.create", {"provision", "wait_ready"}));
    });
    restart();
  }

  model::Operation operation(const std::string& id, const std::string& kind, std::vector<std::string> steps) {
    model::Operation op;
    op.id = id;
    op.kind = kind;
    op.environment_id = "env-1";
    op.steps.push_back({"store", "done"});
    for (const auto& s : steps) op.steps.push_back({s, "pending"});
    op.advance_to(op.steps[1].name);
    return op;
  }

  // A new server process: a new controller on the same store and cloud.
  void restart() {
    controller = std::make_unique<EnvironmentController>(*store, clock,
                                                         std::map<std::string, cloud::CloudDriver*>{{"slow", &cloud}});
  }

  // Reconciles as the runner would, moving the clock by each requested
  // delay, until the environment settles. A crash restarts the "server",
  // which looks again at once (its resync).
  int converge() {
    for (int pass = 1; pass < 500; ++pass) {
      ReconcileResult r;
      try {
        r = controller->reconcile("env-1");
      } catch (const SimulatedCrash&) {
        ++restarts;
        restart();
        continue;
      }
      if (!r.requeue_after) return pass;
      clock.advance(*r.requeue_after);
    }
    ADD_FAILURE() << "did not settle in 500 passes";
    return 500;
  }

  std::optional<model::Environment> env() {
    std::optional<model::Environment> e;
    store->read([&](store::Transaction& tx) { e = tx.environments().by_id("env-1"); });
    return e;
  }
  model::Operation op(const std::string& id) {
    std::optional<model::Operation> o;
    store->read([&](store::Transaction& tx) { o = tx.operations().by_id(id); });
    return *o;
  }
  void change(const std::function<void(model::Environment&)>& edit) {
    store->transact([&](store::Transaction& tx) {
      auto e = *tx.environments().by_id("env-1");
      edit(e);
      tx.environments().put(e);
    });
  }
  void request_delete() {
    change([](model::Environment& e) { e.state = model::kDeleting; });
    store->transact([&](store::Transaction& tx) {
      tx.operations().put(operation("op-delete", "environment.delete", {"deprovision"}));
    });
  }
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  std::unique_ptr<store::Store> store;
  ManualClock clock;
  SlowCloud cloud{clock};
  std::unique_ptr<EnvironmentController> controller;
  int restarts = 0;
  std::atomic<int> deleted{0};  // announcements of the environment's deletion
};

class SlowCloudTest : public ::testing::Test {
 protected:
  World w;
  ManualClock& clock = w.clock;
  SlowCloud& cloud = w.cloud;
  std::unique_ptr<EnvironmentController>& controller = w.controller;
  int converge() { return w.converge(); }
  std::optional<model::Environment> env() { return w.env(); }
  model::Operation op(const std::string& id) { return w.op(id); }
  void change(const std::function<void(model::Environment&)>& edit) { w.change(edit); }
  void request_delete() { w.request_delete(); }
  void add_operation(const std::string& id, const std::string& kind, std::vector<std::string> steps) {
    w.store->transact([&](store::Transaction& tx) { tx.operations().put(w.operation(id, kind, std::move(steps))); });
  }
};

TEST_F(SlowCloudTest, A45MinuteCreateCostsTensOfObservations) {
  MonotonicTime start = clock.monotonic_time();
  converge();
  EXPECT_EQ(env()->state, model::kReady);
  EXPECT_TRUE(env()->cloud_action.empty());
  EXPECT_EQ(env()->cloud_handle, "arn:aws:cloudformation:us-east-1:123456789012:stack/byoc-env-1/1");
  model::Operation create = op("op-create");
  EXPECT_EQ(create.status, "succeeded");
  EXPECT_EQ(create.result["state"], "READY");
  EXPECT_EQ(cloud.stacks_created, 1);
  EXPECT_GE(clock.monotonic_time() - start, 45min);
  EXPECT_LE(clock.monotonic_time() - start, 48min) << "the last look comes soon after the stack is ready";
  EXPECT_LE(cloud.observations, 40) << "a 45-minute create costs tens of observations";
  EXPECT_GE(cloud.observations, 10);
  // Level-triggered: more reconciles change nothing and create nothing.
  int64_t updated_at = env()->updated_at;
  clock.advance(1h);
  EXPECT_FALSE(controller->reconcile("env-1").requeue_after);
  EXPECT_EQ(cloud.stacks_created, 1);
  EXPECT_EQ(env()->updated_at, updated_at);
}

TEST_F(SlowCloudTest, WhileCreatingTheEnvironmentIsProvisioningAndItsOperationAtItsSteps) {
  ReconcileResult first = controller->reconcile("env-1");
  ASSERT_TRUE(first.requeue_after);
  EXPECT_EQ(*first.requeue_after, 30s) << "the driver's hint";
  EXPECT_EQ(env()->state, model::kProvisioning);
  EXPECT_EQ(env()->cloud_action, "create");
  EXPECT_FALSE(env()->cloud_token.empty());
  EXPECT_EQ(op("op-create").steps[1].state, "running");
  clock.advance(30s);
  ReconcileResult second = controller->reconcile("env-1");
  EXPECT_EQ(op("op-create").steps[2].state, "running");  // wait_ready
  ASSERT_TRUE(second.requeue_after);
  clock.advance(*second.requeue_after);
  ReconcileResult third = controller->reconcile("env-1");
  ASSERT_TRUE(third.requeue_after);
  EXPECT_GT(*third.requeue_after, *second.requeue_after) << "backing off while nothing changes";
  EXPECT_LE(*third.requeue_after, 2min);
}

TEST_F(SlowCloudTest, AFailedCreateRollsBackIsFailedWithItsReasonAndRetries) {
  cloud.fail_next_creates = 1;
  converge();
  auto failed = env();
  EXPECT_EQ(failed->state, model::kFailed);
  EXPECT_EQ(failed->reason, "rolled_back");
  EXPECT_NE(failed->message.find("NatGateway1"), std::string::npos);
  model::Operation create = op("op-create");
  EXPECT_EQ(create.status, "failed");
  EXPECT_EQ(create.error["code"], "rolled_back");
  // FAILED stays FAILED until someone retries: no stack is touched meanwhile.
  clock.advance(24h);
  EXPECT_FALSE(controller->reconcile("env-1").requeue_after);
  EXPECT_EQ(cloud.stacks_created, 1);

  change([&](model::Environment& e) { prepare_retry(e, clock.unix_seconds()); });
  add_operation("op-retry", "environment.retry", {"provision", "wait_ready"});
  converge();
  EXPECT_EQ(env()->state, model::kReady);
  EXPECT_EQ(env()->reason, "");
  EXPECT_EQ(op("op-retry").status, "succeeded");
  EXPECT_EQ(cloud.stacks_created, 2);  // the rolled-back stack replaced
  EXPECT_EQ(cloud.most_live, 1u);
}

TEST_F(SlowCloudTest, AnUpdateIsAskedOnceAndSettles) {
  converge();
  change([](model::Environment& e) { e.instance_types = {"m7g.xlarge", "r7gd.2xlarge"}; });
  converge();
  EXPECT_EQ(cloud.updates_started, 1);
  EXPECT_EQ(env()->state, model::kReady);
  EXPECT_TRUE(env()->cloud_action.empty());
  EXPECT_EQ(cloud.stacks_created, 1);
}

// An update recorded but never sent, and the stack gone meanwhile: the next
// server creates it anew instead of sending the update forever.
TEST_F(SlowCloudTest, AnUpdateOfAStackThatVanishedBecomesACreate) {
  converge();
  change([](model::Environment& e) { e.instance_types = {"m7g.xlarge", "r7gd.2xlarge"}; });
  cloud.crash = [](const std::string& point) {
    if (point == "update:before") throw SimulatedCrash(point);
  };
  EXPECT_THROW(controller->reconcile("env-1"), SimulatedCrash);
  EXPECT_EQ(env()->cloud_action, "update");
  cloud.crash = nullptr;
  cloud.vanish("env-1");
  w.restart();
  converge();
  EXPECT_EQ(env()->state, model::kReady);
  EXPECT_EQ(cloud.stacks_created, 2);
  EXPECT_EQ(cloud.live(), 1u);
  EXPECT_EQ(cloud.updates_started, 0);
}

TEST_F(SlowCloudTest, ADeleteTakingTwentyMinutesStaysDeletingThenLeavesNothing) {
  converge();
  request_delete();
  MonotonicTime start = clock.monotonic_time();
  int observations = cloud.observations;
  ReconcileResult r = controller->reconcile("env-1");
  ASSERT_TRUE(r.requeue_after);
  EXPECT_EQ(env()->state, model::kDeleting);
  EXPECT_EQ(env()->cloud_action, "delete");
  converge();
  EXPECT_FALSE(env());
  EXPECT_EQ(op("op-delete").status, "succeeded");
  EXPECT_EQ(cloud.live(), 0u);
  EXPECT_EQ(cloud.deletes_started, 1);
  EXPECT_EQ(w.deleted, 1);
  EXPECT_GE(clock.monotonic_time() - start, 20min);
  EXPECT_LE(cloud.observations - observations, 30);
}

TEST_F(SlowCloudTest, DeletingWhileCreatingStopsTheCreateAndLeavesNothing) {
  controller->reconcile("env-1");
  clock.advance(10min);
  request_delete();
  converge();
  EXPECT_FALSE(env());
  EXPECT_EQ(cloud.live(), 0u);
  EXPECT_EQ(op("op-create").status, "failed");
  EXPECT_EQ(op("op-create").error["code"], "environment_deleted");
}

// A whole life (create, update, delete) with the server killed at the k-th
// crash point, for every k an uninterrupted life passes.
void live_a_life(World& w, bool failing_first) {
  w.cloud.fail_next_creates = failing_first ? 1 : 0;
  w.converge();
  ASSERT_EQ(w.env()->state, failing_first ? model::kFailed : model::kReady);
  if (failing_first) {
    w.change([&](model::Environment& e) { prepare_retry(e, w.clock.unix_seconds()); });
    w.converge();
    ASSERT_EQ(w.env()->state, model::kReady);
  }
  w.change([](model::Environment& e) { e.instance_types = {"m7g.xlarge", "c7g.large"}; });
  w.converge();
  ASSERT_EQ(w.env()->state, model::kReady);
  w.request_delete();
  w.converge();
}

class SlowCloudCrash : public ::testing::TestWithParam<bool> {};

TEST_P(SlowCloudCrash, ARestartAtAnyPointConvergesWithOneStackAndLeavesNothing) {
  const bool failing_first = GetParam();
  const int expected_stacks = failing_first ? 2 : 1;
  int points = 0;
  {
    World w;
    w.cloud.crash = [&](const std::string&) { ++points; };
    live_a_life(w, failing_first);
    ASSERT_FALSE(w.env());
    ASSERT_EQ(w.cloud.stacks_created, expected_stacks);
  }
  ASSERT_GT(points, 10);
  for (int k = 1; k <= points; ++k) {
    SCOPED_TRACE("crash at point " + std::to_string(k) + " of " + std::to_string(points));
    World w;
    std::string crashed_at;
    w.cloud.crash = [&, calls = 0](const std::string& point) mutable {
      if (++calls != k) return;
      crashed_at = point;
      throw SimulatedCrash(point);
    };
    live_a_life(w, failing_first);
    SCOPED_TRACE("the crash was at " + crashed_at);
    EXPECT_EQ(w.restarts, 1);
    EXPECT_FALSE(w.env());
    EXPECT_EQ(w.cloud.stacks_created, expected_stacks) << "a second stack was made";
    EXPECT_EQ(w.cloud.most_live, 1u);
    EXPECT_EQ(w.cloud.live(), 0u) << "something was left behind";
    EXPECT_EQ(w.cloud.deletes_started, 1);
    EXPECT_EQ(w.op("op-delete").status, "succeeded");
    if (::testing::Test::HasFailure()) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Creates, SlowCloudCrash, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "FailingFirst" : "Succeeding"; });

}  // namespace
}  // namespace byoc::controllers::test
