// The desired-state schema's additions (support user, cluster hosts,
// environment network, rollout request) stay closed and strictly typed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "model/protocol.h"

namespace byoc::model {
namespace {
using nlohmann::json;

DesiredState full() {
  DesiredState d;
  d.revision = 9;
  d.environment_id = "env-1";
  d.environment_name = "prod";
  d.environment_cidr = "10.20.0.0/16";
  DesiredService s;
  s.name = "db";
  s.clickhouse_version = "18.16.1";
  s.default_password_sha256_hex = std::string(64, 'a');
  s.support = SupportUser{true, true, true, ""};
  s.cluster_hosts = {"127.0.0.1", "localhost", "ch-0.db.svc.cluster.local", "fd00::5"};
  d.services.push_back(s);
  return d;
}

std::string rejected_field(const json& j) {
  try {
    parse_desired_state(j);
  } catch (const Error& e) {
    return e.field();
  }
  return "<accepted>";
}

TEST(DesiredSchema, NewFieldsRoundTrip) {
  DesiredState d = full();
  EXPECT_EQ(parse_desired_state(to_json(d)), d);
  d.services[0].support.reset();
  d.services[0].cluster_hosts.clear();
  d.environment_cidr.clear();
  EXPECT_EQ(parse_desired_state(to_json(d)), d);
  // Older servers send neither field: still a valid desired state.
  json old = to_json(d);
  old.erase("environment_cidr");
  old["services"][0].erase("cluster_hosts");
  EXPECT_EQ(parse_desired_state(old), d);
}

TEST(DesiredSchema, TheSupportObjectIsClosedAndTyped) {
  json j = to_json(full());
  j["services"][0]["support"]["grants"] = "ALL";
  EXPECT_EQ(rejected_field(j), "desired.services[0].support.grants");
  j = to_json(full());
  j["services"][0]["support"]["readonly"] = "yes";
  EXPECT_EQ(rejected_field(j), "desired.services[0].support.readonly");
  j = to_json(full());
  j["services"][0]["support"].erase("log_queries");
  EXPECT_EQ(rejected_field(j), "desired.services[0].support.log_queries") << "no silent default";
  j = to_json(full());
  j["services"][0]["support"]["password_sha256_hex"] = "hunter2";
  EXPECT_EQ(rejected_field(j), "desired.services[0].support.password_sha256_hex");
  // A well-formed hash parses: refusing it is the agent's invariant check, by code.
  j = to_json(full());
  j["services"][0]["support"]["password_sha256_hex"] = std::string(64, 'b');
  EXPECT_EQ(rejected_field(j), "<accepted>");
}

TEST(DesiredSchema, ClusterHostsAreHostsOnly) {
  for (const char* bad :
       {"127.0.0.1:9000", "http://10.0.0.1", "Host.Example", "a b", "", "-x.example", "10.0.0.1/32"}) {
    json j = to_json(full());
    j["services"][0]["cluster_hosts"] = {"127.0.0.1", bad};
    EXPECT_EQ(rejected_field(j), "desired.services[0].cluster_hosts[1]") << bad;
  }
  json j = to_json(full());
  j["services"][0]["cluster_hosts"] = {42};
  EXPECT_EQ(rejected_field(j), "desired.services[0].cluster_hosts[0]");
}

TEST(DesiredSchema, TheEnvironmentNetworkIsACanonicalIpv4Network) {
  for (const char* bad : {"10.20.0.1/16", "10.20.0.0", "fd00::/8", "10.020.0.0/16"}) {
    json j = to_json(full());
    j["environment_cidr"] = bad;
    EXPECT_EQ(rejected_field(j), "desired.environment_cidr") << bad;
  }
}

TEST(DesiredSchema, ARolloutRequestIsOptionalClosedAndTyped) {
  DesiredState d = full();
  d.services[0].rollout = RolloutRequest{"upgrade-7.1", 1};
  EXPECT_EQ(parse_desired_state(to_json(d)), d);
  EXPECT_EQ(to_json(d)["services"][0]["rollout"], json({{"id", "upgrade-7.1"}, {"max_unavailable", 1}}));
  // Absent means no rollout requested, and nothing is sent for it: an agent
  // that predates the field keeps accepting these desired states.
  EXPECT_FALSE(to_json(full())["services"][0].contains("rollout"));
  EXPECT_FALSE(parse_desired_state(to_json(full())).services[0].rollout.has_value());

  struct Case {
    json rollout;
    std::string field;
  };
  const std::string at = "desired.services[0].rollout";
  for (const Case& c : {Case{json("rolling"), at}, Case{{{"id", "r1"}}, at + ".max_unavailable"},
                        Case{{{"max_unavailable", 1}}, at + ".id"},
                        Case{{{"id", "r1"}, {"max_unavailable", 0}}, at + ".max_unavailable"},
                        Case{{{"id", "r1"}, {"max_unavailable", 17}}, at + ".max_unavailable"},
                        Case{{{"id", "r1"}, {"max_unavailable", "1"}}, at + ".max_unavailable"},
                        Case{{{"id", ""}, {"max_unavailable", 1}}, at + ".id"},
                        Case{{{"id", "a/b"}, {"max_unavailable", 1}}, at + ".id"},
                        Case{{{"id", std::string(65, 'a')}, {"max_unavailable", 1}}, at + ".id"},
                        Case{{{"id", "r1"}, {"max_unavailable", 1}, {"command", "rm -rf"}}, at + ".command"}}) {
    json j = to_json(full());
    j["services"][0]["rollout"] = c.rollout;
    EXPECT_EQ(rejected_field(j), c.field) << c.rollout.dump();
  }
}

TEST(DesiredSchema, ARolloutsDeadlineIsSentOnlyWhenSet) {
  DesiredState d = full();
  d.services[0].rollout = RolloutRequest{"upg-1", 1, 1796000000};
  EXPECT_EQ(to_json(d)["services"][0]["rollout"],
            json({{"id", "upg-1"}, {"max_unavailable", 1}, {"not_after", 1796000000}}));
  EXPECT_EQ(parse_desired_state(to_json(d)), d);
  d.services[0].rollout->not_after = 0;
  EXPECT_FALSE(to_json(d)["services"][0]["rollout"].contains("not_after"));
  const std::string at = "desired.services[0].rollout.not_after";
  for (const json& bad : {json(-1), json("soon"), json(1.5)}) {
    json j = to_json(full());
    j["services"][0]["rollout"] = {{"id", "r1"}, {"max_unavailable", 1}, {"not_after", bad}};
    EXPECT_EQ(rejected_field(j), at) << bad.dump();
  }
}

TEST(ReportSchema, ARolloutsProgressIsClosedEnumeratedAndSentFromProtocolSix) {
  SyncRequest r;
  r.protocol_version = kProtocolVersion;
  ReportedService s;
  s.name = "db";
  s.state = "READY";
  s.reason = "rollout_failed";
  s.rollout = ReportedRollout{"upg-1", "failed", 1, 2, 1, 2, "replication_queue"};
  r.status.services.push_back(s);
  json sent = to_json(r);
  EXPECT_EQ(parse_sync_request(sent).status.services, r.status.services);
  // An agent speaking an older protocol never sends it.
  r.protocol_version = kRolloutProtocolVersion - 1;
  EXPECT_FALSE(to_json(r)["status"]["services"][0].contains("rollout"));

  struct Case {
    std::string key;
    json value;
  };
  for (const Case& c : {Case{"state", "paused"}, Case{"failed_check", "disk"}, Case{"id", "a b"},
                        Case{"replicas_done", 3}, Case{"replicas_total", -1}, Case{"failed_shard", 65},
                        Case{"failed_replica", 17}, Case{"note", "free text"}}) {
    json j = sent;
    j["status"]["services"][0]["rollout"][c.key] = c.value;
    try {
      parse_sync_request(j);
      ADD_FAILURE() << c.key << " " << c.value.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.field(), "status.services[0].rollout." + c.key) << c.value.dump();
    }
  }
}

TEST(ReportSchema, ReadyMayCarryAReason) {
  json service = {{"name", "db"}, {"state", "READY"}, {"reason", "policy_violation"}, {"endpoint", ""}};
  json r = {{"protocol_version", 1}, {"status", {{"services", json::array({service})}}}};
  EXPECT_EQ(parse_sync_request(r).status.services.at(0).reason, "policy_violation");
}

TEST(ReportSchema, UsageIntervalsAreClosedToo) {
  json interval = {{"seq", 1}, {"service", "db"}, {"start", 1}, {"end", 2}, {"query", "SELECT 1"}};
  json r = {{"protocol_version", 1}, {"usage", json::array({interval})}};
  EXPECT_THROW(parse_sync_request(r), Error);
  r["usage"][0].erase("query");
  EXPECT_NO_THROW(parse_sync_request(r));
}

}  // namespace
}  // namespace byoc::model
