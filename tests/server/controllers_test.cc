// The runner's retry policy, an unavailable cloud and service operations, on
// an injected clock (environments against a slow cloud: slow_cloud_test.cc).
#include <gtest/gtest.h>

#include "base/error.h"
#include "controllers/backoff.h"
#include "controllers/environment_controller.h"
#include "controllers/runner.h"
#include "controllers/service_operations.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::controllers {
namespace {
using namespace std::chrono_literals;

struct Fixture {
  Fixture() : store(test_store.open_retrying()) {
    env.id = "env-1";
    env.name = "demo";
    env.cloud = "local";
    env.region = "local";
    env.cidr = "10.0.0.0/16";
    env.zones = {"a"};
    op.id = "op-1";
    op.kind = "environment.create";
    op.environment_id = env.id;
    op.steps = {{"store", "done"}, {"provision", "running"}, {"start_agent", "pending"}};
    store->transact([&](store::Transaction& tx) {
      tx.environments().put(env);
      tx.operations().put(op);
    });
  }
  model::Environment load_env() {
    std::optional<model::Environment> e;
    store->transact([&](store::Transaction& tx) { e = tx.environments().by_id("env-1"); });
    return e.value_or(model::Environment{});
  }
  model::Operation load_op(const std::string& id = "op-1") {
    std::optional<model::Operation> o;
    store->transact([&](store::Transaction& tx) { o = tx.operations().by_id(id); });
    return *o;
  }
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  std::unique_ptr<store::Store> store;
  ManualClock clock;
  model::Environment env;
  model::Operation op;
};

// A cloud the customer lets the plane into: its check answers what the test
// says; its stack is made at once.
class GatedCloud final : public cloud::CloudDriver {
 public:
  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override { return {cloud::kCustomerAccessStep, "stack"}; }
  cloud::AccessCheck check_access(const model::Environment& env) override {
    ++checks;
    if (during_check) during_check(env);
    cloud::AccessCheck c;
    c.granted = granted;
    c.reason = granted ? "" : "permissions_missing";
    c.message = granted ? "" : "the role lacks ec2:CreateVpc";
    c.look_again = 60s;
    return c;
  }
  cloud::Observation observe(const model::Environment&) override {
    cloud::Observation o;
    o.exists = o.up_to_date = o.ready = created;
    o.last_token = token;
    return o;
  }
  std::string create(const model::Environment&, const std::string& t) override {
    if (refuse_create) throw Error::Forbidden("User is not authorized to perform: cloudformation:CreateStack");
    created = true;
    token = t;
    return "stack-1";
  }
  void update(const model::Environment&, const std::string&) override {}
  void remove(const model::Environment&, const std::string&) override {}
  void onboard(model::Environment& env) const override { env.account["external_id"] = "ext-1"; }
  bool granted = false, created = false, refuse_create = false;
  int checks = 0;
  std::string token;
  std::function<void(const model::Environment&)> during_check;
};

TEST(EnvironmentController, AnEnvironmentAwaitingItsRoleIsCheckedUntilGrantedThenProvisioned) {
  Fixture f;
  auto env = f.load_env();
  env.state = model::kAwaitingCustomerRole;
  f.store->transact([&](store::Transaction& tx) {
    tx.environments().put(env);
    model::Operation op = f.op;
    op.steps = {{"store", "done"}, {"customer_access", "running"}, {"stack", "pending"}};
    tx.operations().put(op);
  });
  GatedCloud cloud;
  EnvironmentController c(*f.store, f.clock, {{"local", &cloud}});
  ReconcileResult first = c.reconcile("env-1");
  ReconcileResult second = c.reconcile("env-1");
  EXPECT_EQ(cloud.checks, 2);
  EXPECT_FALSE(cloud.created) << "nothing is made before the grant";
  ASSERT_TRUE(first.requeue_after && second.requeue_after);
  EXPECT_GE(*first.requeue_after, 60s) << "checked again on the driver's hint";
  EXPECT_GT(*second.requeue_after, *first.requeue_after) << "and less often while nothing changes";
  auto waiting = f.load_env();
  EXPECT_EQ(waiting.state, model::kAwaitingCustomerRole);
  EXPECT_EQ(waiting.message, "the role lacks ec2:CreateVpc");
  ASSERT_TRUE(waiting.condition("customer_access"));
  EXPECT_FALSE(waiting.condition("customer_access")->status);
  EXPECT_EQ(waiting.condition("customer_access")->reason, "permissions_missing");
  EXPECT_EQ(f.load_op().status, "running");

  cloud.granted = true;
  c.reconcile("env-1");
  EXPECT_TRUE(cloud.created);
  auto provisioning = f.load_env();
  EXPECT_EQ(provisioning.state, model::kProvisioning);
  EXPECT_EQ(provisioning.message, "");
  EXPECT_TRUE(provisioning.condition("customer_access")->status);
  EXPECT_EQ(provisioning.cloud_handle, "stack-1");
  EXPECT_EQ(f.load_op().steps[1].state, "done");
  EXPECT_EQ(f.load_op().steps[2].state, "running");
  c.reconcile("env-1");
  EXPECT_EQ(f.load_env().state, model::kReady);
  EXPECT_EQ(f.load_op().status, "succeeded");
  EXPECT_EQ(cloud.checks, 3) << "a granted environment is not checked on every pass";
}

TEST(EnvironmentController, AnAwsEnvironmentStoredPendingBeforeOnboardingExistedAwaitsItsRole) {
  Fixture f;
  auto env = f.load_env();
  env.cloud = "aws";  // a cloud whose traits say the customer grants access
  f.store->transact([&](store::Transaction& tx) { tx.environments().put(env); });
  GatedCloud cloud;
  EnvironmentController c(*f.store, f.clock, {{"aws", &cloud}});
  c.reconcile("env-1");
  auto after = f.load_env();
  EXPECT_EQ(after.state, model::kAwaitingCustomerRole);
  EXPECT_EQ(after.account["external_id"], "ext-1") << "onboarded";
  EXPECT_EQ(cloud.checks, 1);
  EXPECT_FALSE(cloud.created);
}

TEST(EnvironmentController, ACheckOfAnAccountChangedMeanwhileIsNotApplied) {
  Fixture f;
  auto env = f.load_env();
  env.state = model::kAwaitingCustomerRole;
  env.account = {{"account_id", "111111111111"}};
  f.store->transact([&](store::Transaction& tx) { tx.environments().put(env); });
  GatedCloud cloud;
  cloud.granted = true;
  cloud.during_check = [&](const model::Environment&) {
    f.store->transact([&](store::Transaction& tx) {
      auto e = tx.environments().by_id("env-1");
      e->account["account_id"] = "222222222222";  // a PATCH while the check runs
      tx.environments().put(*e);
    });
    cloud.during_check = nullptr;
  };
  EnvironmentController c(*f.store, f.clock, {{"local", &cloud}});
  c.reconcile("env-1");
  EXPECT_EQ(f.load_env().state, model::kAwaitingCustomerRole) << "granted for 1111…, not for 2222…";
  EXPECT_FALSE(cloud.created);
  c.reconcile("env-1");  // the new account, checked
  EXPECT_EQ(cloud.checks, 2);
  EXPECT_TRUE(cloud.created);
}

TEST(EnvironmentController, ARefusalOfTheCloudFailsTheEnvironmentWithItsWords) {
  Fixture f;
  GatedCloud cloud;
  cloud.granted = true;
  cloud.refuse_create = true;
  EnvironmentController c(*f.store, f.clock, {{"local", &cloud}});
  c.reconcile("env-1");
  auto failed = f.load_env();
  EXPECT_EQ(failed.state, model::kFailed);
  EXPECT_EQ(failed.reason, "access_denied");
  EXPECT_NE(failed.message.find("cloudformation:CreateStack"), std::string::npos);
  EXPECT_EQ(f.load_op().status, "failed");
}

TEST(EnvironmentController, DeletingAnEnvironmentNothingWasAskedForEndsAtOnce) {
  Fixture f;
  auto env = f.load_env();
  env.state = model::kDeleting;
  f.store->transact([&](store::Transaction& tx) { tx.environments().put(env); });
  struct NeverAsked : cloud::CloudDriver {
    bool can_provision() const override { return true; }
    std::vector<std::string> provision_steps() const override { return {}; }
    cloud::Observation observe(const model::Environment&) override { throw Error::Internal("asked"); }
    std::string create(const model::Environment&, const std::string&) override { return ""; }
    void update(const model::Environment&, const std::string&) override {}
    void remove(const model::Environment&, const std::string&) override { throw Error::Internal("asked"); }
  } never;
  EnvironmentController c(*f.store, f.clock, {{"local", &never}});
  c.reconcile("env-1");
  std::optional<model::Environment> gone;
  f.store->read([&](store::Transaction& tx) { gone = tx.environments().by_id("env-1"); });
  EXPECT_FALSE(gone.has_value());
}

TEST(ServiceOperations, CreateFollowsServiceStateAndDeleteFollowsRemoval) {
  Fixture f;
  model::Service svc;
  svc.id = "svc-1";
  svc.environment_id = "env-1";
  svc.name = "db";
  model::Operation create = f.op;
  create.id = "op-3";
  create.kind = "service.create";
  create.service_name = "db";
  create.steps = {{"store", "done"}, {"agent_apply", "running"}, {"endpoint_ready", "pending"}};
  f.store->transact([&](store::Transaction& tx) {
    tx.services().put(svc);
    tx.operations().put(create);
  });
  auto settle = [&](std::optional<model::Service> s) {
    f.store->transact([&](store::Transaction& tx) { settle_service_operations(tx, f.env, "db", s, 1); });
  };
  svc.state = model::kProvisioning;
  settle(svc);
  EXPECT_EQ(f.load_op("op-3").steps[2].state, "running");
  svc.state = model::kFailed;
  svc.reason = "unsupported_topology";
  settle(svc);
  auto failed = f.load_op("op-3");
  EXPECT_EQ(failed.status, "failed");
  EXPECT_EQ(failed.error["code"], "unsupported_topology");
}

TEST(Backoff, GrowsExponentiallyWithBoundedJitter) {
  Backoff b{500ms, 30'000ms};
  EXPECT_EQ(b.delay(1, 0.0), 250ms);
  EXPECT_EQ(b.delay(1, 0.999).count(), 499);
  EXPECT_EQ(b.delay(3, 0.0), 1000ms);
  EXPECT_EQ(b.delay(30, 0.0), 15'000ms);
  EXPECT_LE(b.delay(30, 0.999), 30'000ms);
}

class FlakyReconciler final : public Reconciler {
 public:
  ReconcileResult reconcile(const std::string& id) override {
    std::lock_guard lock(mutex);
    seen.push_back(id);
    if (seen.size() < 3) throw std::runtime_error("not yet");
    return {};
  }
  std::mutex mutex;
  std::vector<std::string> seen;
};

TEST(Runner, RetriesFailuresAndHoldsALease) {
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  auto store = test_store.open();
  ManualClock clock;
  FlakyReconciler flaky;
  Runner runner(*store, clock, "me", 1);
  runner.add("thing", &flaky);
  runner.start(std::chrono::hours(1));
  auto attempts = [&] {
    std::lock_guard lock(flaky.mutex);
    return flaky.seen.size();
  };
  runner.enqueue("thing/a");
  ASSERT_TRUE(testing::eventually([&] { return attempts() == 1; }, 5s));
  // The retry waits for its backoff (under 500 ms) on the runner's clock:
  // once it is scheduled (and not before: a retry scheduled after the clock
  // moved would count from the new time), nothing runs while the clock
  // stands still, however long we look.
  ASSERT_TRUE(testing::eventually([&] { return runner.waiting() == 1; }, 5s));
  EXPECT_EQ(attempts(), 1u);
  clock.advance(500ms);
  ASSERT_TRUE(testing::eventually([&] { return attempts() == 2; }, 5s));
  ASSERT_TRUE(testing::eventually([&] { return runner.waiting() == 1; }, 5s));
  clock.advance(1s);
  ASSERT_TRUE(testing::eventually([&] { return attempts() == 3; }, 5s));
  EXPECT_TRUE(testing::eventually([&] { return runner.pending() == 0; }, 5s));
  runner.stop();
  // Released after the work: another holder may take it at once.
  store->transact([&](store::Transaction& tx) { EXPECT_TRUE(tx.leases().acquire("thing/a", "other", 0, 60)); });
}

// Work queued while the only worker and the resync loop both sleep wakes the
// worker: the wake-up can't go to the resync loop and be lost.
TEST(Runner, EveryKeyQueuedWhileIdleIsWorkedPromptly) {
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  auto store = test_store.open();
  ManualClock clock;
  FlakyReconciler counter;
  counter.seen = {"", ""};  // past the failures: every call succeeds
  Runner runner(*store, clock, "me", 1);
  runner.add("thing", &counter);
  runner.add_resync("thing", [] { return std::vector<std::string>{}; });
  runner.start(std::chrono::hours(1));
  for (int i = 0; i < 20; ++i) {
    runner.enqueue("thing/k" + std::to_string(i));
    ASSERT_TRUE(testing::eventually([&] {
      std::lock_guard lock(counter.mutex);
      return counter.seen.size() == static_cast<size_t>(i) + 3;
    }, 5s)) << "key " << i << " was not worked";
  }
  runner.stop();
}

TEST(Runner, SkipsKeysLeasedByAnotherServer) {
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  auto store = test_store.open();
  ManualClock clock;
  store->transact([&](store::Transaction& tx) { tx.leases().acquire("thing/a", "other", clock.unix_seconds(), 600); });
  FlakyReconciler flaky;
  Runner runner(*store, clock, "me", 1);
  runner.add("thing", &flaky);
  runner.start(std::chrono::hours(1));
  runner.enqueue("thing/a");
  EXPECT_TRUE(testing::eventually([&] { return runner.pending() == 1; }, 5s));
  runner.stop();
  std::lock_guard lock(flaky.mutex);
  EXPECT_TRUE(flaky.seen.empty());
}

// Looks again after `delay` for its first `looks` calls, then is settled.
class Stepper final : public Reconciler {
 public:
  Stepper(int looks, std::chrono::milliseconds delay) : looks_(looks), delay_(delay) {}
  ReconcileResult reconcile(const std::string&) override {
    int n = ++calls;
    if (n <= looks_) return {delay_};
    return {};
  }
  std::atomic<int> calls{0};

 private:
  int looks_;
  std::chrono::milliseconds delay_;
};

bool other_gets(store::Store& store, const std::string& key, const Clock& clock) {
  bool got = false;
  store.transact([&](store::Transaction& tx) { got = tx.leases().acquire(key, "other", clock.unix_seconds(), 30); });
  if (got) store.transact([&](store::Transaction& tx) { tx.leases().release(key, "other"); });
  return got;
}

TEST(Runner, KeepsALeaseWhileItLooksAgainSoonAndLetsItGoOnceSettled) {
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  auto store = test_store.open();
  ManualClock clock;
  Stepper soon(2, 100ms);
  Runner runner(*store, clock, "me", 1, 30s);
  runner.add("thing", &soon);
  runner.start(std::chrono::hours(1));
  runner.enqueue("thing/a");
  ASSERT_TRUE(testing::eventually([&] { return soon.calls == 1 && runner.waiting() == 1; }, 5s));
  // Between its steps the key stays this server's: no other interleaves.
  EXPECT_FALSE(other_gets(*store, "thing/a", clock));
  clock.advance(100ms);
  ASSERT_TRUE(testing::eventually([&] { return soon.calls == 2 && runner.waiting() == 1; }, 5s));
  EXPECT_FALSE(other_gets(*store, "thing/a", clock));
  clock.advance(100ms);
  ASSERT_TRUE(testing::eventually([&] { return soon.calls == 3 && runner.pending() == 0; }, 5s));
  EXPECT_TRUE(other_gets(*store, "thing/a", clock));  // settled: released
  runner.stop();
}

TEST(Runner, LetsALeaseGoBetweenLooksFarApartAndWhenItStops) {
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  auto store = test_store.open();
  ManualClock clock;
  Stepper slow(5, 20s);  // more than half the lease away
  Stepper soon(5, 100ms);
  Runner runner(*store, clock, "me", 1, 30s);
  runner.add("slow", &slow);
  runner.add("soon", &soon);
  runner.start(std::chrono::hours(1));
  runner.enqueue("slow/a");
  runner.enqueue("soon/b");
  ASSERT_TRUE(testing::eventually([&] { return slow.calls == 1 && soon.calls == 1 && runner.waiting() == 2; }, 5s));
  EXPECT_TRUE(other_gets(*store, "slow/a", clock));
  EXPECT_FALSE(other_gets(*store, "soon/b", clock));
  runner.stop();
  EXPECT_TRUE(other_gets(*store, "soon/b", clock));  // another server may take over at once
}

TEST(Runner, TakesOverAKeyWhenTheOtherServersLeaseRunsOut) {
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  auto store = test_store.open();
  ManualClock clock;
  // A server that died while it held the key (its lease lasts 30 s more).
  store->transact([&](store::Transaction& tx) { tx.leases().acquire("thing/a", "dead", clock.unix_seconds(), 30); });
  Stepper work(0, 0ms);
  Runner runner(*store, clock, "me", 1, 30s);
  runner.add("thing", &work);
  runner.start(std::chrono::hours(1));
  runner.enqueue("thing/a");
  ASSERT_TRUE(testing::eventually([&] { return runner.waiting() == 1; }, 5s));
  clock.advance(29s);
  ASSERT_TRUE(testing::eventually([&] { return runner.waiting() == 1; }, 5s));
  EXPECT_EQ(work.calls, 0);
  clock.advance(2s);  // the lease ran out: tried again then, not a resync later
  EXPECT_TRUE(testing::eventually([&] { return work.calls == 1; }, 5s));
  runner.stop();
}

}  // namespace
}  // namespace byoc::controllers
