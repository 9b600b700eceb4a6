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

}  // namespace
}  // namespace byoc::render
