#include "render/clickhouse_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"

namespace byoc::render {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kMiB = 1024 * 1024;
const std::string kHash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

ClickHouseServerConfig server_config() {
  ClickHouseServerConfig c;
  c.cluster_name = "orders";
  c.shard = 1;
  c.replica_name = "s1r1";
  c.http_port = 18123;
  c.tcp_port = 19000;
  c.interserver_http_port = 19009;
  c.data_path = "/srv/byoc/orders/s1r1/data/";
  c.tmp_path = "/srv/byoc/orders/s1r1/data/tmp/";
  c.user_files_path = "/srv/byoc/orders/s1r1/data/user_files/";
  c.format_schema_path = "/srv/byoc/orders/s1r1/data/format_schemas/";
  c.log_file = "/srv/byoc/orders/s1r1/logs/clickhouse-server.log";
  c.error_log_file = "/srv/byoc/orders/s1r1/logs/clickhouse-server.err.log";
  c.users_config_file = "/srv/byoc/orders/s1r1/users.xml";
  c.cluster = {ClickHouseClusterShard{{ClickHouseClusterReplica{"127.0.0.1", 19000}}}};
  c.sizing = clickhouse_sizing(1000, 2048);
  return c;
}

ClickHouseUsersConfig users_config() {
  ClickHouseUsersConfig c;
  c.users = {ClickHouseUser{"default", kHash, loopback_networks()}};
  c.sizing = clickhouse_sizing(2500, 4096);
  return c;
}

void expect_invalid(const std::function<void()>& f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "expected kInvalid for " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
    EXPECT_EQ(e.field(), field) << e.what();
  }
}

TEST(ClickHouseSizing, ThreadsRoundUpAndNeverZero) {
  EXPECT_EQ(clickhouse_sizing(1, 2048).max_threads, 1);
  EXPECT_EQ(clickhouse_sizing(999, 2048).max_threads, 1);
  EXPECT_EQ(clickhouse_sizing(1000, 2048).max_threads, 1);
  EXPECT_EQ(clickhouse_sizing(1001, 2048).max_threads, 2);
  EXPECT_EQ(clickhouse_sizing(2500, 2048).max_threads, 3);
  EXPECT_EQ(clickhouse_sizing(16000, 2048).max_threads, 16);
}

TEST(ClickHouseSizing, MemoryLeavesHeadroomAndFundsTheMarkCache) {
  ClickHouseSizing s = clickhouse_sizing(1000, 2048);
  int64_t memory = 2048 * kMiB;
  EXPECT_EQ(s.mark_cache_size, memory / 8);
  EXPECT_EQ(s.uncompressed_cache_size, memory / 16);
  EXPECT_EQ(s.max_memory_usage_for_all_queries, memory * 9 / 10 - memory / 8);
  EXPECT_EQ(s.max_memory_usage, s.max_memory_usage_for_all_queries);
  // Everything the server may hold on behalf of queries and marks stays within 90%.
  EXPECT_LE(s.max_memory_usage_for_all_queries + s.mark_cache_size, memory * 9 / 10);
  EXPECT_GT(s.max_execution_time_seconds, 0);
  EXPECT_LE(s.max_execution_time_seconds, 3600);
  // Twice the memory, twice the limits.
  ClickHouseSizing big = clickhouse_sizing(1000, 4096);
  EXPECT_NEAR(static_cast<double>(big.max_memory_usage) / s.max_memory_usage, 2.0, 0.001);
}

TEST(ClickHouseSizing, RejectsSizesTooSmallToRun) {
  expect_invalid([] { clickhouse_sizing(0, 2048); }, "cpu_millis");
  expect_invalid([] { clickhouse_sizing(1000, kMinMemoryMib - 1); }, "memory_mib");
  EXPECT_NO_THROW(clickhouse_sizing(1000, kMinMemoryMib));
}

TEST(ClickHouseConfig, RendersPortsPathsAndLoopbackListener) {
  std::string xml = render_clickhouse_config(server_config());
  EXPECT_THAT(xml, HasSubstr("<yandex>"));
  EXPECT_THAT(xml, HasSubstr("</yandex>"));
  EXPECT_THAT(xml, HasSubstr("<listen_host>127.0.0.1</listen_host>"));
  EXPECT_THAT(xml, Not(HasSubstr("0.0.0.0")));
  EXPECT_THAT(xml, Not(HasSubstr("<listen_host>::</listen_host>")));
  EXPECT_THAT(xml, HasSubstr("<http_port>18123</http_port>"));
  EXPECT_THAT(xml, HasSubstr("<tcp_port>19000</tcp_port>"));
  EXPECT_THAT(xml, HasSubstr("<interserver_http_port>19009</interserver_http_port>"));
  EXPECT_THAT(xml, HasSubstr("<interserver_http_host>127.0.0.1</interserver_http_host>"));
  EXPECT_THAT(xml, HasSubstr("<path>/srv/byoc/orders/s1r1/data/</path>"));
  EXPECT_THAT(xml, HasSubstr("<tmp_path>/srv/byoc/orders/s1r1/data/tmp/</tmp_path>"));
  EXPECT_THAT(xml, HasSubstr("<user_files_path>/srv/byoc/orders/s1r1/data/user_files/</user_files_path>"));
  EXPECT_THAT(
      xml, HasSubstr("<format_schema_path>/srv/byoc/orders/s1r1/data/format_schemas/</format_schema_path>"));
  EXPECT_THAT(xml, HasSubstr("<log>/srv/byoc/orders/s1r1/logs/clickhouse-server.log</log>"));
  EXPECT_THAT(xml, HasSubstr("<errorlog>/srv/byoc/orders/s1r1/logs/clickhouse-server.err.log</errorlog>"));
  EXPECT_THAT(xml, HasSubstr("<users_config>/srv/byoc/orders/s1r1/users.xml</users_config>"));
  EXPECT_THAT(xml, Not(HasSubstr("/etc/clickhouse-server")));
  EXPECT_THAT(xml, Not(HasSubstr("/var/lib/clickhouse")));
  EXPECT_THAT(xml, Not(HasSubstr("incl=")));  // nothing pulled from /etc/metrika.xml
}

TEST(ClickHouseConfig, SizesCachesFromMemory) {
  std::string xml = render_clickhouse_config(server_config());
  EXPECT_THAT(xml, HasSubstr("<mark_cache_size>" + std::to_string(2048 * kMiB / 8) + "</mark_cache_size>"));
  EXPECT_THAT(xml, HasSubstr("<uncompressed_cache_size>" + std::to_string(2048 * kMiB / 16) +
                             "</uncompressed_cache_size>"));
}

TEST(ClickHouseConfig, RendersClusterNamedAfterServiceAndMacros) {
  ClickHouseServerConfig c = server_config();
  c.shard = 2;
  c.replica_name = "s2r1";
  c.tcp_port = 19100;
  c.cluster = {ClickHouseClusterShard{{{"127.0.0.1", 19000}, {"127.0.0.1", 19001}}},
               ClickHouseClusterShard{{{"127.0.0.1", 19100}, {"127.0.0.1", 19101}}}};
  c.cluster_user = "byoc_cluster";
  c.cluster_password = "s3cr<t";
  std::string xml = render_clickhouse_config(c);
  auto cluster_begin = xml.find("<orders>");
  auto cluster_end = xml.find("</orders>");
  ASSERT_NE(cluster_begin, std::string::npos);
  ASSERT_NE(cluster_end, std::string::npos);
  std::string cluster = xml.substr(cluster_begin, cluster_end - cluster_begin);
  // Two shards, in order, each listing its replicas as 127.0.0.1:tcp_port.
  auto shard2 = cluster.find("<shard>", cluster.find("<shard>") + 1);
  ASSERT_NE(shard2, std::string::npos);
  EXPECT_LT(cluster.find("<port>19000</port>"), shard2);
  EXPECT_LT(cluster.find("<port>19001</port>"), shard2);
  EXPECT_GT(cluster.find("<port>19100</port>"), shard2);
  EXPECT_GT(cluster.find("<port>19101</port>"), shard2);
  EXPECT_THAT(cluster, HasSubstr("<host>127.0.0.1</host>"));
  EXPECT_THAT(cluster, HasSubstr("<internal_replication>true</internal_replication>"));
  EXPECT_THAT(cluster, HasSubstr("<user>byoc_cluster</user>"));
  EXPECT_THAT(cluster, HasSubstr("<password>s3cr&lt;t</password>"));
  EXPECT_THAT(xml, HasSubstr("<shard>2</shard>"));
  EXPECT_THAT(xml, HasSubstr("<replica>s2r1</replica>"));
  EXPECT_THAT(xml, HasSubstr("<cluster>orders</cluster>"));
  EXPECT_THAT(xml, Not(HasSubstr("<zookeeper>")));
}

TEST(ClickHouseConfig, NoPasswordElementWithoutClusterPassword) {
  std::string xml = render_clickhouse_config(server_config());
  EXPECT_THAT(xml, Not(HasSubstr("<password>")));
  EXPECT_THAT(xml, HasSubstr("<user>default</user>"));
}

TEST(ClickHouseConfig, RendersZooKeeperAndDistributedDdlWhenGiven) {
  ClickHouseServerConfig c = server_config();
  c.zookeeper = {{"127.0.0.1", 2181}, {"127.0.0.1", 2182}};
  std::string xml = render_clickhouse_config(c);
  EXPECT_THAT(xml, HasSubstr("<zookeeper>"));
  EXPECT_THAT(xml, HasSubstr("<port>2182</port>"));
  EXPECT_THAT(xml, HasSubstr("<path>/clickhouse/orders/task_queue/ddl</path>"));
  EXPECT_THAT(xml, HasSubstr("<session_timeout_ms>30000</session_timeout_ms>"));
  EXPECT_THAT(xml, Not(HasSubstr("<root>")));  // no chroot unless given
}

TEST(ClickHouseConfig, RendersTheServicesZooKeeperChroot) {
  ClickHouseServerConfig c = server_config();
  c.zookeeper = {{"127.0.0.1", 2181}};
  c.zookeeper_root = "/byoc/orders";
  c.zookeeper_session_timeout_ms = 12'000;
  std::string xml = render_clickhouse_config(c);
  auto begin = xml.find("<zookeeper>");
  auto end = xml.find("</zookeeper>");
  ASSERT_NE(begin, std::string::npos);
  std::string zk = xml.substr(begin, end - begin);
  EXPECT_THAT(zk, HasSubstr("<root>/byoc/orders</root>"));
  EXPECT_THAT(zk, HasSubstr("<session_timeout_ms>12000</session_timeout_ms>"));
  // The root is given without ZooKeeper: nothing rendered (no ZooKeeper at all).
  c.zookeeper.clear();
  EXPECT_THAT(render_clickhouse_config(c), Not(HasSubstr("<root>")));
}

TEST(ClickHouseConfig, ZooKeeperPathsAreCheckedSegmentBySegment) {
  for (const char* ok : {"/byoc", "/byoc/orders", "/byoc/a-b_C9"})
    EXPECT_NO_THROW(require_zookeeper_path(ok, "f"));
  for (const char* bad :
       {"", "/", "byoc", "/byoc/", "//byoc", "/byoc//x", "/byoc/</root>", "/byoc/a b", "/byoc/.."})
    EXPECT_THROW(require_zookeeper_path(bad, "f"), Error) << bad;
}

TEST(ClickHouseConfig, RefusesInputsThatWouldBreakTheFile) {
  expect_invalid(
      [] {
        auto c = server_config();
        c.data_path = "/srv/data";
        render_clickhouse_config(c);
      },
      "data_path");
  expect_invalid(
      [] {
        auto c = server_config();
        c.tmp_path = "tmp/";
        render_clickhouse_config(c);
      },
      "tmp_path");
  expect_invalid(
      [] {
        auto c = server_config();
        c.log_file = "/srv/a</log>.log";
        render_clickhouse_config(c);
      },
      "log_file");
  expect_invalid(
      [] {
        auto c = server_config();
        c.http_port = 0;
        render_clickhouse_config(c);
      },
      "http_port");
  expect_invalid(
      [] {
        auto c = server_config();
        c.interserver_http_port = 70000;
        render_clickhouse_config(c);
      },
      "interserver_http_port");
  expect_invalid(
      [] {
        auto c = server_config();
        c.http_port = c.tcp_port;
        render_clickhouse_config(c);
      },
      "tcp_port");
  expect_invalid(
      [] {
        auto c = server_config();
        c.cluster_name = "a b";
        render_clickhouse_config(c);
      },
      "cluster_name");
  expect_invalid(
      [] {
        auto c = server_config();
        c.listen_host = "0.0.0.0/0";
        render_clickhouse_config(c);
      },
      "listen_host");
  // A replica absent from its own shard would be skipped by ON CLUSTER.
  expect_invalid(
      [] {
        auto c = server_config();
        c.cluster[0].replicas[0].tcp_port = 19999;
        render_clickhouse_config(c);
      },
      "cluster");
  expect_invalid(
      [] {
        auto c = server_config();
        c.sizing.max_execution_time_seconds = 0;
        render_clickhouse_config(c);
      },
      "max_execution_time");
  expect_invalid(
      [] {
        auto c = server_config();
        c.zookeeper = {{"127.0.0.1", 2181}};
        c.zookeeper_root = "/byoc/x</root><root>/";
        render_clickhouse_config(c);
      },
      "zookeeper_root");
  expect_invalid(
      [] {
        auto c = server_config();
        c.zookeeper_session_timeout_ms = 10;
        render_clickhouse_config(c);
      },
      "zookeeper_session_timeout_ms");
}

TEST(ClickHouseUsers, DefaultUserHasPasswordHashAndLoopbackOnly) {
  std::string xml = render_clickhouse_users(users_config());
  EXPECT_THAT(xml, HasSubstr("<yandex>"));
  auto begin = xml.find("<default>", xml.find("<users>"));
  auto end = xml.find("</default>", begin);
  ASSERT_NE(begin, std::string::npos);
  std::string user = xml.substr(begin, end - begin);
  EXPECT_THAT(user, HasSubstr("<password_sha256_hex>" + kHash + "</password_sha256_hex>"));
  EXPECT_THAT(user, HasSubstr("<ip>127.0.0.1</ip>"));
  EXPECT_THAT(user, HasSubstr("<ip>::1</ip>"));
  EXPECT_THAT(user, Not(HasSubstr("::/0")));
  EXPECT_THAT(user, HasSubstr("<profile>default</profile>"));
  EXPECT_THAT(xml, Not(HasSubstr("<password>")));  // never a plain-text password
}

TEST(ClickHouseUsers, ProfileCarriesTheLimits) {
  std::string xml = render_clickhouse_users(users_config());
  ClickHouseSizing s = clickhouse_sizing(2500, 4096);
  EXPECT_THAT(xml, HasSubstr("<max_threads>3</max_threads>"));
  EXPECT_THAT(xml,
              HasSubstr("<max_memory_usage>" + std::to_string(s.max_memory_usage) + "</max_memory_usage>"));
  EXPECT_THAT(xml, HasSubstr("<max_memory_usage_for_all_queries>" +
                             std::to_string(s.max_memory_usage_for_all_queries) +
                             "</max_memory_usage_for_all_queries>"));
  EXPECT_THAT(xml, HasSubstr("<max_execution_time>600</max_execution_time>"));
  EXPECT_THAT(xml, HasSubstr("<quota>default</quota>"));
  EXPECT_THAT(xml, HasSubstr("<quotas>"));
  // What a Distributed INSERT returned is on the shards when it returns.
  EXPECT_THAT(xml, HasSubstr("<insert_distributed_sync>1</insert_distributed_sync>"));
}

TEST(ClickHouseUsers, RefusesBadUsers) {
  expect_invalid(
      [] {
        auto c = users_config();
        c.users[0].password_sha256_hex = "abc";
        render_clickhouse_users(c);
      },
      "users.password_sha256_hex");
  expect_invalid(
      [] {
        auto c = users_config();
        c.users[0].password_sha256_hex = std::string(64, 'G');
        render_clickhouse_users(c);
      },
      "users.password_sha256_hex");
  expect_invalid(
      [] {
        auto c = users_config();
        c.users[0].networks = {};
        render_clickhouse_users(c);
      },
      "users.networks");
  expect_invalid(
      [] {
        auto c = users_config();
        c.users[0].networks = {"localhost</ip>"};
        render_clickhouse_users(c);
      },
      "users.networks");
  expect_invalid(
      [] {
        auto c = users_config();
        c.users.push_back(c.users[0]);
        render_clickhouse_users(c);
      },
      "users.name");
  expect_invalid(
      [] {
        auto c = users_config();
        c.users = {};
        render_clickhouse_users(c);
      },
      "users");
}

TEST(ClickHouseUsers, RendersEveryUserGiven) {
  auto c = users_config();
  c.users.push_back(ClickHouseUser{"byoc_cluster", std::string(64, 'a'), {"127.0.0.1"}});
  std::string xml = render_clickhouse_users(c);
  EXPECT_THAT(xml, HasSubstr("<byoc_cluster>"));
  EXPECT_THAT(xml, HasSubstr("<password_sha256_hex>" + std::string(64, 'a') + "</password_sha256_hex>"));
}


// ---- The support user and the query log ----

TEST(ClickHouseConfig, RendersTheQueryLogPartitionedByDay) {
  std::string xml = render_clickhouse_config(server_config());
  auto begin = xml.find("<query_log>");
  auto end = xml.find("</query_log>");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::string log = xml.substr(begin, end - begin);
  EXPECT_THAT(log, HasSubstr("<database>system</database>"));
  EXPECT_THAT(log, HasSubstr("<table>query_log</table>"));
  EXPECT_THAT(log, HasSubstr("<partition_by>toYYYYMMDD(event_date)</partition_by>"));
  EXPECT_THAT(log, HasSubstr("<flush_interval_milliseconds>1000</flush_interval_milliseconds>"));
  // No per-thread log: it would repeat every query's text.
  EXPECT_THAT(xml, Not(HasSubstr("query_thread_log")));
}

ClickHouseSupportUser support_user() {
  ClickHouseSupportUser s;
  s.password_sha256_hex = std::string(64, 'e');
  s.networks = {"127.77.0.2"};
  return s;
}

// The text of the element <name> that follows `after` (its first occurrence).
std::string element(const std::string& xml, const std::string& after, const std::string& name) {
  auto from = xml.find(after);
  if (from == std::string::npos) return "";
  auto begin = xml.find("<" + name + ">", from);
  auto end = xml.find("</" + name + ">", begin);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return xml.substr(begin, end - begin);
}

TEST(ClickHouseUsers, NoSupportUserUnlessAsked) {
  std::string xml = render_clickhouse_users(users_config());
  EXPECT_THAT(xml, Not(HasSubstr("support")));
  EXPECT_THAT(xml, Not(HasSubstr("<readonly>")));
  EXPECT_THAT(xml, Not(HasSubstr("<log_queries>")));
  EXPECT_THAT(xml, Not(HasSubstr("<keyed>")));
  EXPECT_THAT(xml, Not(HasSubstr("<allow_databases>")));
}

TEST(ClickHouseUsers, SupportProfileIsReadonlyLoggedAndBounded) {
  auto c = users_config();
  c.support = support_user();
  std::string xml = render_clickhouse_users(c);
  std::string profile = element(xml, "<profiles>", "support");
  ASSERT_NE(profile, "");
  EXPECT_THAT(profile, HasSubstr("<readonly>1</readonly>"));
  EXPECT_THAT(profile, HasSubstr("<log_queries>1</log_queries>"));
  EXPECT_THAT(profile, HasSubstr("<max_execution_time>60</max_execution_time>"));
  EXPECT_THAT(profile, HasSubstr("<timeout_overflow_mode>throw</timeout_overflow_mode>"));
  EXPECT_THAT(profile, HasSubstr("<max_result_rows>100000</max_result_rows>"));
  EXPECT_THAT(profile, HasSubstr("<result_overflow_mode>throw</result_overflow_mode>"));
  ClickHouseSizing s = clickhouse_sizing(2500, 4096);
  EXPECT_THAT(profile, HasSubstr("<max_threads>3</max_threads>"));
  EXPECT_THAT(profile,
              HasSubstr("<max_memory_usage>" + std::to_string(s.max_memory_usage) + "</max_memory_usage>"));
  EXPECT_THAT(profile, Not(HasSubstr("insert_distributed_sync")));
  // The default profile is as it was: its queries are not logged.
  std::string default_profile = element(xml, "<profiles>", "default");
  EXPECT_THAT(default_profile, Not(HasSubstr("log_queries")));
  EXPECT_THAT(default_profile, Not(HasSubstr("readonly")));
}

TEST(ClickHouseUsers, SupportUserSeesOnlySystemFromTheGatewaySource) {
  auto c = users_config();
  c.support = support_user();
  std::string xml = render_clickhouse_users(c);
  std::string user = element(xml, "<users>", "support");
  ASSERT_NE(user, "");
  EXPECT_THAT(user, HasSubstr("<password_sha256_hex>" + std::string(64, 'e') + "</password_sha256_hex>"));
  EXPECT_THAT(user, HasSubstr("<networks>\n        <ip>127.77.0.2</ip>\n      </networks>"));
  EXPECT_THAT(user, HasSubstr("<profile>support</profile>"));
  EXPECT_THAT(user, HasSubstr("<quota>support</quota>"));
  EXPECT_THAT(user, HasSubstr("<allow_databases>\n        <database>system</database>\n      </allow_databases>"));
  // `default` keeps every database.
  EXPECT_THAT(element(xml, "<users>", "default"), Not(HasSubstr("allow_databases")));
}

TEST(ClickHouseUsers, SupportQuotaIsKeyedAndBounded) {
  auto c = users_config();
  c.support = support_user();
  c.support->quota_queries = 50;
  std::string xml = render_clickhouse_users(c);
  std::string quota = element(xml, "<quotas>", "support");
  ASSERT_NE(quota, "");
  EXPECT_THAT(quota, HasSubstr("<keyed>1</keyed>"));
  EXPECT_THAT(quota, HasSubstr("<duration>3600</duration>"));
  EXPECT_THAT(quota, HasSubstr("<queries>50</queries>"));
  EXPECT_THAT(quota, HasSubstr("<errors>1000</errors>"));
  EXPECT_THAT(quota, HasSubstr("<result_rows>10000000</result_rows>"));
  EXPECT_THAT(quota, HasSubstr("<read_rows>10000000000</read_rows>"));
  EXPECT_THAT(quota, HasSubstr("<execution_time>3600</execution_time>"));
  // The default quota is not keyed (a client-supplied key is refused there).
  EXPECT_THAT(element(xml, "<quotas>", "default"), Not(HasSubstr("keyed")));
}

TEST(ClickHouseUsers, RefusesBadSupportUsers) {
  using Mutate = std::function<void(ClickHouseSupportUser&)>;
  std::vector<std::pair<std::string, Mutate>> cases = {
      {"support.name", [](auto& s) { s.name = "a<b"; }},
      {"support.name", [](auto& s) { s.name = "default"; }},
      {"support.password_sha256_hex", [](auto& s) { s.password_sha256_hex = "x"; }},
      {"support.networks", [](auto& s) { s.networks = {}; }},
      {"support.networks", [](auto& s) { s.networks = {"any"}; }},
      {"support.max_execution_time_seconds", [](auto& s) { s.max_execution_time_seconds = 0; }},
      {"support.max_result_rows", [](auto& s) { s.max_result_rows = 0; }},
      {"support.quota_interval_seconds", [](auto& s) { s.quota_interval_seconds = 0; }},
      {"support.quota_queries", [](auto& s) { s.quota_queries = 0; }},
      {"support.quota_errors", [](auto& s) { s.quota_errors = -1; }},
      {"support.quota_result_rows", [](auto& s) { s.quota_result_rows = 0; }},
      {"support.quota_read_rows", [](auto& s) { s.quota_read_rows = 0; }},
      {"support.quota_execution_time_seconds", [](auto& s) { s.quota_execution_time_seconds = 0; }},
  };
  for (const auto& [field, mutate] : cases) {
    expect_invalid(
        [&] {
          auto c = users_config();
          c.support = support_user();
          mutate(*c.support);
          render_clickhouse_users(c);
        },
        field);
  }
  // Not one of the users either.
  expect_invalid(
      [] {
        auto c = users_config();
        c.users.push_back(ClickHouseUser{"support", kHash, {"127.0.0.1"}});
        c.support = support_user();
        render_clickhouse_users(c);
      },
      "support.name");
}

}  // namespace
}  // namespace byoc::render
