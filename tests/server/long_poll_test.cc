// The agent's long-poll (POST /v1/agent/sync) on the injected clock: a hold
// ends at its deadline only when the clock gets there, and a change answers
// at once and takes its deadline timer with it. Nothing here sleeps.
#include <gtest/gtest.h>

#include <future>

#include "api_harness.h"
#include "model/protocol.h"
#include "testing/testing.h"

namespace byoc::server::test {
namespace {
using namespace std::chrono_literals;

class LongPoll : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(api.call_json("POST", "/v1/environments", {{"name", "e"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}})
                  .status,
              202);
    api.store->transact([&](store::Transaction& tx) {
      id = tx.environments().by_name("default", "e")->id;
      tx.agents().put({id, "0a1b", 0});
    });
    api.context().sync_hold = 30s;
  }

  std::future<Answer> sync(int64_t known_revision) {
    HttpRequest req;
    req.method = "POST";
    req.path = "/v1/agent/sync";
    req.headers["content-type"] = "application/json";
    req.peer = PeerCertificate{"agent:" + id, "0a1b"};
    model::SyncRequest report;
    report.known_revision = known_revision;
    report.seq = ++seq;
    req.body = model::to_json(report).dump();
    return std::async(std::launch::async, [this, req]() mutable { return api.send(std::move(req)); });
  }

  int64_t revision() {
    int64_t r = 0;
    api.store->read([&](store::Transaction& tx) { r = tx.environments().by_id(id)->revision; });
    return r;
  }

  bool held() { return api.context().waiters.waiting() == 1; }

  ApiHarness api;
  std::string id;
  int64_t seq = 0;
};

TEST_F(LongPoll, AnAgentBehindIsAnsweredAtOnceWithTheDesiredState) {
  Answer a = sync(0).get();
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["revision"], revision());
  EXPECT_TRUE(a.body.contains("desired"));
  EXPECT_EQ(api.clock.pending_timers(), 0u);
}

TEST_F(LongPoll, AHoldEndsAtItsDeadlineOnTheClockAndNotBefore) {
  auto answer = sync(revision());
  ASSERT_TRUE(testing::eventually([&] { return held(); }, 5s));
  EXPECT_EQ(api.clock.pending_timers(), 1u);
  api.clock.advance(29'999ms);
  EXPECT_EQ(answer.wait_for(0s), std::future_status::timeout);
  EXPECT_TRUE(held());
  api.clock.advance(1ms);
  Answer a = answer.get();
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["revision"], revision());
  EXPECT_FALSE(a.body.contains("desired"));  // unchanged: nothing to send
  EXPECT_EQ(api.context().waiters.waiting(), 0u);
}

TEST_F(LongPoll, AChangeAnswersAtOnceAndCancelsTheDeadline) {
  int64_t before = revision();
  auto answer = sync(before);
  ASSERT_TRUE(testing::eventually([&] { return held(); }, 5s));
  api.store->transact([&](store::Transaction& tx) {
    auto env = *tx.environments().by_id(id);
    env.revision = before + 1;
    tx.environments().put(env);
  });
  api.context().waiters.notify(id, before + 1);
  Answer a = answer.get();
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["revision"], before + 1);
  EXPECT_TRUE(a.body.contains("desired"));
  EXPECT_TRUE(testing::eventually([&] { return api.clock.pending_timers() == 0; }, 5s));
  api.clock.advance(1h);  // the cancelled deadline answers nothing twice
  EXPECT_EQ(api.context().waiters.waiting(), 0u);
}

}  // namespace
}  // namespace byoc::server::test
