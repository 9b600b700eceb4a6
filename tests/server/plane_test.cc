// The servers of one plane on one store, on the manual clock: who is live,
// what a joining or leaving server tells the others, and whose word counts
// on an agent's presence when it moves between servers or its server dies.
#include <gtest/gtest.h>

#include <mutex>

#include "api_harness.h"
#include "model/topics.h"
#include "server/plane.h"

namespace byoc::server::test {
namespace {
using namespace std::chrono_literals;

class Plane : public ::testing::Test {
 protected:
  ApiHarness api;
};

TEST_F(Plane, ServersSeeEachOtherUntilAHeartbeatIsTooOld) {
  PlaneMembership a(*api.store, api.clock, "server-a", "https://10.0.0.1:8443");
  PlaneMembership b(*api.store, api.clock, "server-b", "https://10.0.0.2:8443");
  a.heartbeat();
  EXPECT_EQ(a.urls(), std::vector<std::string>{"https://10.0.0.1:8443"});
  b.heartbeat();
  EXPECT_EQ(b.urls(), (std::vector<std::string>{"https://10.0.0.2:8443", "https://10.0.0.1:8443"}));
  a.refresh();
  EXPECT_TRUE(a.alive("server-b"));
  EXPECT_EQ(a.members().front().id, "server-a");
  // b stops renewing: dead after 35 s, forgotten by the store a day later.
  api.clock.advance(std::chrono::seconds(PlaneMembership::kDeadAfterSeconds + 1));
  a.heartbeat();
  EXPECT_FALSE(a.alive("server-b"));
  EXPECT_EQ(a.urls(), std::vector<std::string>{"https://10.0.0.1:8443"});
  api.clock.advance(std::chrono::seconds(PlaneMembership::kForgetAfterSeconds));
  a.heartbeat();
  size_t rows = 0;
  api.store->read([&](store::Transaction& tx) { rows = tx.servers().list().size(); });
  EXPECT_EQ(rows, 1u);
}

TEST_F(Plane, JoiningAndLeavingAreAnnouncedOnce) {
  std::mutex mutex;
  std::vector<std::string> heard;
  api.store->subscribe([&](const std::string& topic, const std::string& message) {
    std::lock_guard lock(mutex);
    if (topic == model::topics::kServers) heard.push_back(message);
  });
  PlaneMembership b(*api.store, api.clock, "server-b", "https://10.0.0.2:8443");
  b.heartbeat();
  b.heartbeat();  // a renewal says nothing
  b.leave();
  std::lock_guard lock(mutex);
  EXPECT_EQ(heard, (std::vector<std::string>{"server-b", "server-b"}));
  size_t rows = 9;
  api.store->read([&](store::Transaction& tx) { rows = tx.servers().list().size(); });
  EXPECT_EQ(rows, 0u);
}

// An environment whose agent was connected, with its session held by `server`.
void connected_agent(store::Store& store, const std::string& env_id, const std::string& server, int64_t now) {
  store.transact([&](store::Transaction& tx) {
    model::Environment e;
    e.id = env_id;
    e.organization = "default";
    e.name = env_id;
    e.cloud = "external";
    e.cidr = "10.0.0.0/16";
    e.set_condition("agent_connected", true, "", now);
    tx.environments().put(e);
    tx.agent_sessions().put({env_id, server, now});
  });
}

bool connected(store::Store& store, const std::string& env_id) {
  bool out = false;
  store.read([&](store::Transaction& tx) { out = tx.environments().by_id(env_id)->condition("agent_connected")->status; });
  return out;
}

TEST_F(Plane, OnlyTheServerAnAgentSyncsWithSaysItLeftAndADeadServersAgentsAreGone) {
  ServerContext& ctx = api.context();
  PlaneMembership me(*api.store, api.clock, "server-me", "https://10.0.0.1:8443");
  PlaneMembership other(*api.store, api.clock, "server-other", "https://10.0.0.2:8443");
  PlaneMembership dead(*api.store, api.clock, "server-dead", "https://10.0.0.3:8443");
  dead.heartbeat();
  api.clock.advance(std::chrono::seconds(PlaneMembership::kDeadAfterSeconds + 1));
  other.heartbeat();
  me.heartbeat();
  ctx.plane = &me;
  int64_t now = api.clock.unix_seconds();
  connected_agent(*api.store, "env-moved", "server-other", now);  // synced here once, then moved on
  connected_agent(*api.store, "env-mine", "server-me", now);
  connected_agent(*api.store, "env-orphan", "server-dead", now);
  connected_agent(*api.store, "env-elsewhere", "server-other", now);
  for (const char* id : {"env-moved", "env-mine"}) {
    ctx.presence.begin(id);
    ctx.presence.end(id);
  }
  api.clock.advance(60s);  // past the presence grace
  other.heartbeat();
  me.heartbeat();
  for (int sweep = 0; sweep < 6; ++sweep) sweep_agent_presence(ctx);
  EXPECT_TRUE(connected(*api.store, "env-moved"));   // another server has it now
  EXPECT_FALSE(connected(*api.store, "env-mine"));   // it left this server and went nowhere
  EXPECT_FALSE(connected(*api.store, "env-orphan"));  // its server died
  EXPECT_TRUE(connected(*api.store, "env-elsewhere"));  // a live server's
  api.store->read([&](store::Transaction& tx) {
    EXPECT_FALSE(tx.agent_sessions().by_environment("env-orphan"));
    EXPECT_FALSE(tx.agent_sessions().by_environment("env-mine"));
    EXPECT_EQ(tx.agent_sessions().by_environment("env-moved")->server_id, "server-other");
  });
  ctx.plane = nullptr;
}

}  // namespace
}  // namespace byoc::server::test
