// Renders the two files one ClickHouse 18.16 replica runs from: config.xml
// (ports, paths, logs, caches, cluster, macros) and users.xml (users, the
// profile carrying the replica's limits, quotas). Pure text generators: no I/O,
// no clock; inputs are checked (render/validate.h) and a bad one throws
// byoc::Error kInvalid naming the field. Thread-safe.
//
// Nothing here reads /etc/clickhouse-server: every path is absolute and given
// by the caller, so replicas of many services can share one machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::render {

// What a replica of a given size may use. Derived, never configured by hand,
// so the management plane's profile (cpu, memory) is the only knob.
struct ClickHouseSizing {
  int max_threads = 1;                           // ceil(cpu_millis / 1000), at least 1
  int64_t max_memory_usage = 0;                  // bytes, one query
  int64_t max_memory_usage_for_all_queries = 0;  // bytes, all queries of the server
  // A query keeps running after its HTTP client leaves, so every query is
  // bounded in time.
  int max_execution_time_seconds = 600;
  int64_t mark_cache_size = 0;          // bytes; read at server start only
  int64_t uncompressed_cache_size = 0;  // bytes; used only if a query asks for it
};

// Throws kInvalid unless cpu_millis >= 1 and memory_mib >= kMinMemoryMib.
// Memory: 90% of the replica's memory is the budget (the rest is headroom for
// the server itself); the mark cache takes 1/8 of the memory out of that
// budget and queries (one or all together) get what remains.
ClickHouseSizing clickhouse_sizing(int cpu_millis, int memory_mib);
inline constexpr int kMinMemoryMib = 256;

struct ClickHouseClusterReplica {
  // Distributed DDL finds "itself" in the cluster only as host:tcp_port with
  // host an address of a local interface: locally 127.0.0.1 and distinct ports.
  std::string host = "127.0.0.1";
  int tcp_port = 0;
};

struct ClickHouseClusterShard {
  std::vector<ClickHouseClusterReplica> replicas;
};

struct ZooKeeperNode {
  std::string host;
  int port = 0;
};

struct ClickHouseServerConfig {
  std::string cluster_name;  // the service name; `ON CLUSTER <name>` targets it
  int shard = 1;             // 1-based place of this replica, rendered as {shard}
  std::string replica_name;  // unique within the shard, rendered as {replica}

  std::string listen_host = "127.0.0.1";
  int http_port = 0;
  int tcp_port = 0;
  int interserver_http_port = 0;
  std::string interserver_http_host = "127.0.0.1";

  // Absolute directories ending in '/'.
  std::string data_path;  // <path>; holds preprocessed configs: keep it 0700
  std::string tmp_path;
  std::string user_files_path;
  std::string format_schema_path;
  // Absolute files.
  std::string log_file;
  std::string error_log_file;
  std::string users_config_file;

  // The service's topology, this replica included. The cluster's user and
  // password are what Distributed tables use between replicas (plain text:
  // keep config.xml 0600); an empty password renders none.
  std::vector<ClickHouseClusterShard> cluster;
  std::string cluster_user = "default";
  std::string cluster_password;

  std::vector<ZooKeeperNode> zookeeper;  // empty: no <zookeeper>, no distributed DDL
  // The service's chroot in a ZooKeeper shared by several services ("/byoc/orders"):
  // its tables and DDL queue live below it, invisible to the others. ClickHouse
  // 18.16 refuses to start its ZooKeeper session if the node does not exist yet.
  // Empty: the ZooKeeper root.
  std::string zookeeper_root;
  int zookeeper_session_timeout_ms = 30'000;

  ClickHouseSizing sizing;
};

// config.xml always has a <query_log> (system.query_log, one partition per
// day: 18.16 has no TTL, old days are dropped by partition). Only queries of
// users whose profile says log_queries=1 (`support`) land in it; ClickHouse
// creates the table at its first flush with something to write.
std::string render_clickhouse_config(const ClickHouseServerConfig& config);

struct ClickHouseUser {
  std::string name;
  std::string password_sha256_hex;
  std::vector<std::string> networks;  // IPs or CIDRs the user may connect from
};

// The vendor's troubleshooting user, reached only through the endpoint's
// support gateway (render/nginx_config.h). Its profile `support` is readonly=1
// (no SET, no settings in the URL, no INSERT/CREATE/ALTER/DROP, no table
// functions), logs every query (log_queries=1, with quota_key and
// http_user_agent naming the certificate) and bounds each query in time,
// result size and the replica's sizing; the user sees only the `system`
// database. Its quota `support` is keyed (<keyed>1</keyed>): one account per
// X-ClickHouse-Quota value (the certificate's serial), bounded per interval.
struct ClickHouseSupportUser {
  std::string name = "support";
  std::string password_sha256_hex;
  std::vector<std::string> networks;  // the gateway's upstream source only
  int max_execution_time_seconds = 60;
  int64_t max_result_rows = 100'000;  // per query; more is an error (result_overflow_mode throw)
  // Per quota key and interval; every limit must be positive.
  int quota_interval_seconds = 3600;
  int64_t quota_queries = 1000;
  int64_t quota_errors = 1000;
  int64_t quota_result_rows = 10'000'000;
  int64_t quota_read_rows = 10'000'000'000;
  int64_t quota_execution_time_seconds = 3600;
};

struct ClickHouseUsersConfig {
  // Every user gets the `default` profile (the sizing's limits) and the
  // `default` quota (unlimited, accounting only). The profile also makes an
  // INSERT into a Distributed table synchronous (insert_distributed_sync): it
  // returns once every shard has the rows, so what the client was told it
  // wrote is readable at once, and a failed shard is the client's error rather
  // than a background retry.
  std::vector<ClickHouseUser> users;
  ClickHouseSizing sizing;
  // Rendered (user, profile and quota, all named after it) when set; its
  // name must not be one of `users`.
  std::optional<ClickHouseSupportUser> support;
};

// Loopback only: what `default` may connect from (the service endpoint's
// nginx and local tools), never the customer's networks directly.
std::vector<std::string> loopback_networks();

// A ZooKeeper node path as ClickHouse and ZooKeeper take it: absolute, made of
// [A-Za-z0-9_-] segments, no trailing '/' ("/byoc/orders"). Throws kInvalid.
void require_zookeeper_path(std::string_view value, std::string_view field);

std::string render_clickhouse_users(const ClickHouseUsersConfig& config);

}  // namespace byoc::render
