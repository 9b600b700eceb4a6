// Each repository round-trips whole records — every field set to something
// other than its default, compared with the record's own operator== — and
// keeps its documented order, replacement and removal rules.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "base/error.h"
#include "store/store.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::model {
// Readable failures: gtest prints records through these.
void PrintTo(const Environment& e, std::ostream* os) { *os << to_json(e).dump(); }
void PrintTo(const Service& s, std::ostream* os) { *os << to_json(s, "").dump(); }
void PrintTo(const Operation& o, std::ostream* os) { *os << to_json(o).dump(); }
}  // namespace byoc::model

namespace byoc::store {
namespace {

// An environment with no field at its default.
model::Environment full_environment(const std::string& id, const std::string& organization, const std::string& name) {
  model::Environment e;
  e.id = id;
  e.organization = organization;
  e.name = name;
  e.cloud = "aws";
  e.region = "eu-west-1";
  e.cidr = "10.4.0.0/16";
  e.zones = {"eu-west-1a", "eu-west-1b"};
  e.instance_types = {"m6i.xlarge", "r6i.2xlarge"};
  e.daemonset_cpu_millis = 150;
  e.daemonset_memory_mib = 300;
  e.host_cores = 8;
  e.host_memory_mib = 32'768;
  e.state = model::kFailed;
  e.set_condition("agent_connected", true, "", 5);
  e.set_condition("cloud_ready", false, "rolled_back", 6);
  e.revision = 9;
  e.applied_revision = 8;
  e.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  e.cloud_handle = "arn:aws:cloudformation:eu-west-1:123456789012:stack/byoc/1";
  e.cloud_action = "create";
  e.cloud_token = "tok-create-1";
  e.reason = "rolled_back";
  e.message = "The following resource(s) failed to create: [NatGateway1].";
  e.agent_protocol = 6;
  e.maintenance.channel = model::kChannelSlow;
  e.maintenance.window = plan::MaintenanceWindow{
      "Europe/Berlin",
      {{{std::chrono::Tuesday, std::chrono::Saturday}, std::chrono::hours{2}, std::chrono::minutes{90}}},
      {{std::chrono::year{2026} / 12 / 20, std::chrono::year{2027} / 1 / 3}}};
  e.created_at = 7;
  e.updated_at = 11;
  return e;
}

model::Service full_service(const std::string& id, const std::string& environment_id, const std::string& name) {
  model::Service s;
  s.id = id;
  s.environment_id = environment_id;
  s.name = name;
  s.clickhouse_version = "18.16.0";
  s.shards = 2;
  s.replicas = 3;
  s.cpu_millis = 4000;
  s.memory_mib = 16'384;
  s.profile = "m6i.xlarge";
  s.allowed_ips = {"10.0.0.0/8", "192.0.2.7/32"};
  s.password_sha256_hex = std::string(64, 'a');
  s.state = model::kReady;
  s.reason = "replica_failed";
  s.endpoint = "https://127.0.0.1:9443";
  s.native_endpoint = "127.0.0.1:9440";
  s.support_gateway = "https://127.0.0.1:9444";
  s.maintenance = model::MaintenancePolicy{
      plan::MaintenanceWindow{"America/St_Johns", {{{std::chrono::Sunday}, std::chrono::minutes{45}, std::chrono::hours{4}}}, {}},
      model::kChannelFast};
  s.rollout = model::RolloutRequest{"upg-0123456789abcdef", 1, 1796000000};
  s.rollout_status = model::ReportedRollout{"upg-0123456789abcdef", "failed", 1, 2, 1, 2, "replication_queue"};
  s.created_at = 12;
  s.updated_at = 13;
  return s;
}

model::Operation full_operation(const std::string& id, const std::string& environment_id) {
  model::Operation o;
  o.id = id;
  o.kind = "service.create";
  o.environment_id = environment_id;
  o.environment_name = "demo";
  o.organization = "acme";
  o.service_name = "web";
  o.steps = {{"store", "done"}, {"agent_apply", "running"}, {"endpoint_ready", "pending"}};
  o.created_at = 20;
  o.updated_at = 21;
  return o;
}

class Repositories : public ::testing::Test {
 protected:
  void write(const std::function<void(Transaction&)>& fn) { store->transact(fn); }
  void read(const std::function<void(Transaction&)>& fn) { store->read(fn); }
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  std::unique_ptr<Store> store = test_store.open();
};

TEST_F(Repositories, EnvironmentsRoundTripReplaceListAndRemove) {
  auto a = full_environment("env-a", "acme", "prod");
  auto b = full_environment("env-b", "acme", "dev");
  auto c = full_environment("env-c", "default", "demo");
  write([&](Transaction& tx) {
    tx.environments().put(a);
    tx.environments().put(b);
    tx.environments().put(c);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.environments().by_id("env-a"), a);
    EXPECT_EQ(tx.environments().by_name("acme", "dev"), b);
    EXPECT_EQ(tx.environments().by_name("default", "prod"), std::nullopt);
    EXPECT_EQ(tx.environments().list("acme"), (std::vector<model::Environment>{b, a}));  // by name
    EXPECT_EQ(tx.environments().list(""), (std::vector<model::Environment>{b, a, c}));  // by organization
  });
  // A put of a known id replaces every field.
  model::Environment changed = full_environment("env-a", "acme", "prod2");
  changed.state = model::kReady;
  changed.cloud_action = changed.cloud_token = changed.reason = changed.message = "";
  changed.conditions.clear();
  changed.zones = {"eu-west-1c"};
  changed.revision = 10;
  write([&](Transaction& tx) {
    tx.environments().put(changed);
    tx.environments().remove("env-b");
    tx.environments().remove("env-unknown");  // a no-op
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.environments().by_id("env-a"), changed);
    EXPECT_EQ(tx.environments().by_id("env-b"), std::nullopt);
    EXPECT_EQ(tx.environments().list("acme"), (std::vector<model::Environment>{changed}));
  });
}

TEST_F(Repositories, ServicesRoundTripReplaceListAndRemove) {
  write([&](Transaction& tx) {
    tx.environments().put(full_environment("env-a", "acme", "prod"));
    tx.environments().put(full_environment("env-b", "acme", "dev"));
  });
  auto web = full_service("svc-1", "env-a", "web");
  auto api = full_service("svc-2", "env-a", "api");
  auto other = full_service("svc-3", "env-b", "web");
  write([&](Transaction& tx) {
    tx.services().put(web);
    tx.services().put(api);
    tx.services().put(other);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.services().by_id("svc-1"), web);
    EXPECT_EQ(tx.services().by_name("env-b", "web"), other);
    EXPECT_EQ(tx.services().list("env-a"), (std::vector<model::Service>{api, web}));
    EXPECT_EQ(tx.services().list(""), (std::vector<model::Service>{api, web, other}));
  });
  model::Service resized = web;
  resized.cpu_millis = 8000;
  resized.allowed_ips = {};
  resized.state = model::kDeleting;
  resized.profile = "";
  resized.maintenance.reset();  // back to the environment's
  resized.rollout.reset();
  write([&](Transaction& tx) {
    tx.services().put(resized);
    tx.services().remove("svc-2");
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.services().by_id("svc-1"), resized);
    EXPECT_EQ(tx.services().list("env-a"), (std::vector<model::Service>{resized}));
  });
  // The same name twice in one environment is a conflict.
  EXPECT_THROW(write([&](Transaction& tx) { tx.services().put(full_service("svc-9", "env-a", "web")); }), Error);
}

TEST_F(Repositories, OperationsRoundTripAndAPutUpdatesOnlyProgress) {
  auto op = full_operation("op-1", "env-a");
  write([&](Transaction& tx) { tx.operations().put(op); });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.operations().by_id("op-1"), op);
    EXPECT_EQ(tx.operations().running("env-a"), (std::vector<model::Operation>{op}));
  });
  model::Operation failed = op;
  failed.fail("superseded", "a later update replaced this one", 30);
  model::Operation relabelled = failed;
  relabelled.kind = "environment.delete";  // what it is never changes
  relabelled.service_name = "other";
  write([&](Transaction& tx) { tx.operations().put(relabelled); });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.operations().by_id("op-1"), failed);
    EXPECT_TRUE(tx.operations().running("").empty());
  });
  model::Operation succeeded = full_operation("op-2", "env-a");
  succeeded.succeed(nlohmann::json{{"name", "web"}, {"replicas", 3}}, 40);
  write([&](Transaction& tx) { tx.operations().put(succeeded); });
  read([&](Transaction& tx) { EXPECT_EQ(tx.operations().by_id("op-2"), succeeded); });
}

TEST_F(Repositories, ApiTokensRoundTripListByIdAndRemove) {
  ApiToken b{"tok-b", std::string(64, 'b'), "operator", "default", 5, "bob@vendor.example"};
  ApiToken a{"tok-a", std::string(64, 'a'), "customer", "acme", 6, ""};
  write([&](Transaction& tx) {
    tx.api_tokens().put(b);
    tx.api_tokens().put(a);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.api_tokens().by_id("tok-b"), b);
    EXPECT_EQ(tx.api_tokens().list(), (std::vector<ApiToken>{a, b}));
  });
  write([&](Transaction& tx) { tx.api_tokens().remove("tok-b"); });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.api_tokens().by_id("tok-b"), std::nullopt);
    EXPECT_EQ(tx.api_tokens().list(), (std::vector<ApiToken>{a}));
  });
}

TEST_F(Repositories, OrganizationsRoundTripAndANameIsTakenOnce) {
  Organization acme{"acme", 3};
  write([&](Transaction& tx) { tx.organizations().put(acme); });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.organizations().by_name("acme"), acme);
    EXPECT_EQ(tx.organizations().by_name("nope"), std::nullopt);
    auto all = tx.organizations().list();  // "default" always exists
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], acme);
    EXPECT_EQ(all[1].name, "default");
  });
  EXPECT_THROW(write([&](Transaction& tx) { tx.organizations().put({"acme", 4}); }), Error);
}

TEST_F(Repositories, IdempotentResponsesAreKeptPerTokenAndKeyOnce) {
  IdempotentResponse r{"tok-a", "key-1", "POST /v1/environments sha256:ab", 202, R"({"id":"op-1"})", 9};
  IdempotentResponse other_token = r;
  other_token.token_id = "tok-b";
  other_token.status = 409;
  write([&](Transaction& tx) {
    tx.idempotent_responses().put(r);
    tx.idempotent_responses().put(other_token);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.idempotent_responses().find("tok-a", "key-1"), r);
    EXPECT_EQ(tx.idempotent_responses().find("tok-b", "key-1"), other_token);
    EXPECT_EQ(tx.idempotent_responses().find("tok-a", "key-2"), std::nullopt);
  });
  EXPECT_THROW(write([&](Transaction& tx) { tx.idempotent_responses().put(r); }), Error);
}

TEST_F(Repositories, JoinTokensAndAgentsRoundTripAndReplace) {
  JoinToken t{"join-1", "env-a", std::string(64, 'c'), 3600, 0};
  Agent agent{"env-a", "0a1b2c", 100, "09f8e7"};
  write([&](Transaction& tx) {
    tx.environments().put(full_environment("env-a", "acme", "prod"));
    tx.join_tokens().put(t);
    tx.agents().put(agent);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.join_tokens().by_id("join-1"), t);
    EXPECT_EQ(tx.agents().by_environment("env-a"), agent);
    EXPECT_EQ(tx.agents().by_environment("env-b"), std::nullopt);
  });
  t.used_at = 50;
  agent = {"env-a", "ffee", 200, ""};
  write([&](Transaction& tx) {
    tx.join_tokens().put(t);
    tx.agents().put(agent);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.join_tokens().by_id("join-1"), t);
    EXPECT_EQ(tx.agents().by_environment("env-a"), agent);
  });
}

TEST_F(Repositories, UsageTotalsSumEachIntervalOnce) {
  write([&](Transaction& tx) {
    EXPECT_TRUE(tx.usage().insert("env-a", {1, "web", 1, 1, 0, 10, 10'000, 20'480}));
    EXPECT_TRUE(tx.usage().insert("env-a", {2, "web", 1, 2, 0, 10, 5'000, 1'024}));
    EXPECT_FALSE(tx.usage().insert("env-a", {2, "api", 1, 1, 0, 10, 99, 99}));
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.usage().totals("env-a"), (UsageTotals{2, 15'000, 21'504}));
    EXPECT_EQ(tx.usage().totals("env-b"), UsageTotals{});
    EXPECT_EQ(tx.usage().max_seq("env-a"), 2);
    EXPECT_EQ(tx.usage().max_seq("env-b"), 0);
  });
}

TEST_F(Repositories, ServersRoundTripReplaceAndRemove) {
  ServerRecord a{"server-a", "https://127.0.0.1:8443", 10, 20};
  ServerRecord b{"server-b", "https://127.0.0.2:8443", 11, 21};
  write([&](Transaction& tx) {
    tx.servers().put(b);
    tx.servers().put(a);
  });
  read([&](Transaction& tx) { EXPECT_EQ(tx.servers().list(), (std::vector<ServerRecord>{a, b})); });
  a.url = "https://127.0.0.1:9443";
  a.heartbeat_at = 30;
  write([&](Transaction& tx) {
    tx.servers().put(a);
    tx.servers().remove("server-b");
  });
  read([&](Transaction& tx) { EXPECT_EQ(tx.servers().list(), std::vector<ServerRecord>{a}); });
}

TEST_F(Repositories, AgentSessionsMoveBetweenServersAndGoWithTheirEnvironment) {
  write([&](Transaction& tx) {
    tx.environments().put(full_environment("env-a", "acme", "prod"));
    tx.environments().put(full_environment("env-b", "acme", "dev"));
    tx.agent_sessions().put({"env-a", "server-1", 5});
    tx.agent_sessions().put({"env-b", "server-2", 6});
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.agent_sessions().by_environment("env-a"), (AgentSession{"env-a", "server-1", 5}));
    EXPECT_EQ(tx.agent_sessions().held_elsewhere("server-1"), (std::vector<AgentSession>{{"env-b", "server-2", 6}}));
  });
  write([&](Transaction& tx) {
    tx.agent_sessions().put({"env-a", "server-2", 7});                 // the agent moved
    EXPECT_FALSE(tx.agent_sessions().remove("env-a", "server-1"));    // so server-1's leaving changes nothing
    EXPECT_TRUE(tx.agent_sessions().remove("env-b", "server-2"));
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.agent_sessions().by_environment("env-a"), (AgentSession{"env-a", "server-2", 7}));
    EXPECT_EQ(tx.agent_sessions().by_environment("env-b"), std::nullopt);
  });
  write([&](Transaction& tx) { tx.environments().remove("env-a"); });
  read([&](Transaction& tx) { EXPECT_EQ(tx.agent_sessions().by_environment("env-a"), std::nullopt); });
}

TEST_F(Repositories, AStoredWindowInAZoneThisMachineLacksStillReadsBack) {
  // Written by a server whose tz database had the zone: the record must
  // stay readable here (asking the calendar about it is what fails).
  model::Environment e = full_environment("env-a", "acme", "prod");
  e.maintenance.window->time_zone = "Mars/Olympus_Mons";
  write([&](Transaction& tx) { tx.environments().put(e); });
  read([&](Transaction& tx) { EXPECT_EQ(tx.environments().by_id("env-a"), e); });
}

TEST_F(Repositories, VersionsAreOnePerKindAndNameInPublicationOrder) {
  model::PublishedVersion later{"clickhouse", "18.16.1-r2", 200, "admin@vendor.example", 300};
  model::PublishedVersion earlier{"clickhouse", "18.16.1", 100, "admin@vendor.example", 301};
  model::PublishedVersion eks{"eks", "1.33", 150, "token:t1", 302};
  write([&](Transaction& tx) {
    tx.versions().put(later);
    tx.versions().put(earlier);
    tx.versions().put(eks);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.versions().by_name("clickhouse", "18.16.1-r2"), later);
    EXPECT_EQ(tx.versions().by_name("eks", "18.16.1-r2"), std::nullopt);
    EXPECT_EQ(tx.versions().list("clickhouse"), (std::vector<model::PublishedVersion>{earlier, later}));
    EXPECT_EQ(tx.versions().list(""), (std::vector<model::PublishedVersion>{earlier, eks, later}));
  });
}

TEST_F(Repositories, UpgradesRoundTripAndListTheOpenOnes) {
  model::Upgrade a;
  a.id = "upg-a";
  a.environment_id = "env-a";
  a.organization = "acme";
  a.service_name = "web";
  a.from_version = "18.16.1";
  a.to_version = "18.16.1-r2";
  a.state = model::kUpgradeRunning;
  a.available_at = 10;
  a.deferred_until = 20;
  a.started = true;
  a.running_until = 30;
  a.replicas_done = 1;
  a.replicas_total = 2;
  a.failed_shard = 1;
  a.failed_replica = 2;
  a.failed_check = "ping";
  a.waiting_for = "window";
  a.created_at = 5;
  a.updated_at = 6;
  a.finished_at = 7;
  model::Upgrade b = a;
  b.id = "upg-b";
  b.state = model::kUpgradeSucceeded;
  b.created_at = 8;
  model::Upgrade c = a;
  c.id = "upg-c";
  c.environment_id = "env-b";
  c.state = model::kUpgradePaused;
  write([&](Transaction& tx) {
    tx.upgrades().put(b);
    tx.upgrades().put(a);
    tx.upgrades().put(c);
  });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.upgrades().by_id("upg-a"), a);
    EXPECT_EQ(tx.upgrades().by_id("upg-x"), std::nullopt);
    EXPECT_EQ(tx.upgrades().list("env-a", false), (std::vector<model::Upgrade>{a, b}));
    EXPECT_EQ(tx.upgrades().list("env-a", true), (std::vector<model::Upgrade>{a}));
    EXPECT_EQ(tx.upgrades().environments_with_open(), (std::vector<std::string>{"env-a", "env-b"}));
  });
  a.state = model::kUpgradeFailed;
  write([&](Transaction& tx) { tx.upgrades().put(a); });
  read([&](Transaction& tx) {
    EXPECT_EQ(tx.upgrades().list("env-a", true), std::vector<model::Upgrade>{});
    EXPECT_EQ(tx.upgrades().environments_with_open(), (std::vector<std::string>{"env-b"}));
  });
}

TEST_F(Repositories, AReadOnlySnapshotRefusesEveryWrite) {
  read([&](Transaction& tx) {
    EXPECT_THROW(tx.environments().put(full_environment("env-a", "acme", "prod")), Error);
    EXPECT_THROW(tx.api_tokens().put({"tok-a", "", "admin", "default", 0, "a@b"}), Error);
    EXPECT_THROW(tx.leases().acquire("k", "me", 0, 60), Error);
    EXPECT_THROW(tx.usage().insert("env-a", {1, "web", 1, 1, 0, 10, 1, 1}), Error);
    EXPECT_THROW(tx.logs().append("k", "x"), Error);
    EXPECT_THROW(tx.servers().put({"s", "u", 0, 0}), Error);
    EXPECT_THROW(tx.publish("topic", "x"), Error);
  });
}

}  // namespace
}  // namespace byoc::store
