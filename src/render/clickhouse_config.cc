#include "render/clickhouse_config.h"

#include <fmt/format.h>

#include <iterator>
#include <set>

#include "base/error.h"
#include "render/validate.h"

namespace byoc::render {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

template <typename... Args>
void emit(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  out += '\n';
}

void check_sizing(const ClickHouseSizing& s) {
  if (s.max_threads < 1)
    throw Error::Invalid("invalid_config_value", "max_threads must be >= 1", "max_threads");
  if (s.max_memory_usage <= 0 || s.max_memory_usage_for_all_queries <= 0 ||
      s.max_memory_usage > s.max_memory_usage_for_all_queries)
    throw Error::Invalid("invalid_config_value",
                         "memory limits must be positive, one query's within all queries'",
                         "max_memory_usage");
  if (s.max_execution_time_seconds <= 0)
    throw Error::Invalid("invalid_config_value", "max_execution_time must be bounded (> 0)",
                         "max_execution_time");
  if (s.mark_cache_size <= 0 || s.uncompressed_cache_size <= 0)
    throw Error::Invalid("invalid_config_value", "cache sizes must be positive", "mark_cache_size");
}

void check_host(const std::string& host, std::string_view field) {
  // Hosts here are addresses (loopback replicas) or plain DNS names (ZooKeeper
  // later): either way, no character that needs escaping.
  if (host.empty())
    throw Error::Invalid("invalid_config_value", std::string(field) + ": empty host", std::string(field));
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == ':';
    if (!ok)
      throw Error::Invalid("invalid_config_value", std::string(field) + ": bad host '" + host + "'",
                           std::string(field));
  }
}

void check_server(const ClickHouseServerConfig& c) {
  require_identifier(c.cluster_name, "cluster_name");
  require_identifier(c.replica_name, "replica_name");
  if (c.shard < 1) throw Error::Invalid("invalid_config_value", "shard is 1-based", "shard");
  require_ip_or_cidr(c.listen_host, "listen_host");
  if (c.listen_host.find('/') != std::string::npos)
    throw Error::Invalid("invalid_config_value", "listen_host must be an address", "listen_host");
  check_host(c.interserver_http_host, "interserver_http_host");
  require_port(c.http_port, "http_port");
  require_port(c.tcp_port, "tcp_port");
  require_port(c.interserver_http_port, "interserver_http_port");
  std::set<int> ports{c.http_port, c.tcp_port, c.interserver_http_port};
  if (ports.size() != 3)
    throw Error::Invalid("invalid_config_value", "http, tcp and interserver ports must differ", "tcp_port");
  require_absolute_dir(c.data_path, "data_path");
  require_absolute_dir(c.tmp_path, "tmp_path");
  require_absolute_dir(c.user_files_path, "user_files_path");
  require_absolute_dir(c.format_schema_path, "format_schema_path");
  require_absolute_path(c.log_file, "log_file");
  require_absolute_path(c.error_log_file, "error_log_file");
  require_absolute_path(c.users_config_file, "users_config_file");
  if (c.cluster.empty()) throw Error::Invalid("invalid_config_value", "cluster has no shard", "cluster");
  bool found_self = false;
  for (size_t s = 0; s < c.cluster.size(); ++s) {
    if (c.cluster[s].replicas.empty())
      throw Error::Invalid("invalid_config_value", "cluster shard has no replica", "cluster");
    for (const auto& r : c.cluster[s].replicas) {
      check_host(r.host, "cluster.host");
      require_port(r.tcp_port, "cluster.tcp_port");
      if (static_cast<int>(s) + 1 == c.shard && r.tcp_port == c.tcp_port) found_self = true;
    }
  }
  // A replica missing from its own cluster would make ON CLUSTER skip it silently.
  if (!found_self)
    throw Error::Invalid("invalid_config_value", "the replica is not in its shard of the cluster", "cluster");
  require_identifier(c.cluster_user, "cluster_user");
  for (const auto& zk : c.zookeeper) {
    check_host(zk.host, "zookeeper.host");
    require_port(zk.port, "zookeeper.port");
  }
  if (!c.zookeeper_root.empty()) require_zookeeper_path(c.zookeeper_root, "zookeeper_root");
  if (c.zookeeper_session_timeout_ms < 1000)
    throw Error::Invalid("invalid_config_value", "zookeeper_session_timeout_ms must be >= 1000",
                         "zookeeper_session_timeout_ms");
  check_sizing(c.sizing);
}

void check_support(const ClickHouseSupportUser& s, const std::set<std::string>& user_names) {
  require_identifier(s.name, "support.name");
  // Its profile and quota are named after it: never `default`'s.
  if (s.name == "default")
    throw Error::Invalid("invalid_config_value", "the support user can't be named default", "support.name");
  if (user_names.count(s.name))
    throw Error::Invalid("invalid_config_value", "support user " + s.name + " is also a user",
                         "support.name");
  require_sha256_hex(s.password_sha256_hex, "support.password_sha256_hex");
  if (s.networks.empty())
    throw Error::Invalid("invalid_config_value", "support user has no network", "support.networks");
  for (const auto& n : s.networks) require_ip_or_cidr(n, "support.networks");
  auto positive = [](int64_t value, const char* field) {
    if (value <= 0)
      throw Error::Invalid("invalid_config_value", std::string(field) + " must be > 0", field);
  };
  positive(s.max_execution_time_seconds, "support.max_execution_time_seconds");
  positive(s.max_result_rows, "support.max_result_rows");
  positive(s.quota_interval_seconds, "support.quota_interval_seconds");
  positive(s.quota_queries, "support.quota_queries");
  positive(s.quota_errors, "support.quota_errors");
  positive(s.quota_result_rows, "support.quota_result_rows");
  positive(s.quota_read_rows, "support.quota_read_rows");
  positive(s.quota_execution_time_seconds, "support.quota_execution_time_seconds");
}

}  // namespace

ClickHouseSizing clickhouse_sizing(int cpu_millis, int memory_mib) {
  if (cpu_millis < 1) throw Error::Invalid("invalid_size", "cpu_millis must be >= 1", "cpu_millis");
  if (memory_mib < kMinMemoryMib)
    throw Error::Invalid("invalid_size", fmt::format("memory_mib must be >= {}", kMinMemoryMib),
                         "memory_mib");
  ClickHouseSizing s;
  s.max_threads = (cpu_millis + 999) / 1000;
  int64_t memory = int64_t{memory_mib} * kMiB;
  s.mark_cache_size = memory / 8;
  s.uncompressed_cache_size = memory / 16;
  int64_t budget = memory * 9 / 10;
  s.max_memory_usage_for_all_queries = budget - s.mark_cache_size;
  s.max_memory_usage = s.max_memory_usage_for_all_queries;
  return s;
}

std::vector<std::string> loopback_networks() { return {"127.0.0.1", "::1"}; }

void require_zookeeper_path(std::string_view value, std::string_view field) {
  auto bad = [&](const std::string& why) {
    throw Error::Invalid("invalid_config_value", std::string(field) + ": " + why, std::string(field));
  };
  if (value.size() < 2 || value.front() != '/' || value.back() == '/')
    bad("must be an absolute ZooKeeper path without a trailing '/'");
  bool segment_start = true;
  for (char c : value.substr(1)) {
    if (c == '/') {
      if (segment_start) bad("empty path segment");
      segment_start = true;
      continue;
    }
    segment_start = false;
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) bad("path has a character outside [A-Za-z0-9_-/]");
  }
}

std::string render_clickhouse_config(const ClickHouseServerConfig& c) {
  check_server(c);
  std::string out;
  emit(out, "<?xml version=\"1.0\"?>");
  emit(out, "<!-- Rendered by byoc for replica {} of service {}; rewritten on every apply. -->",
       c.replica_name, c.cluster_name);
  emit(out, "<yandex>");
  emit(out, "  <logger>");
  emit(out, "    <level>information</level>");
  emit(out, "    <log>{}</log>", xml_escape(c.log_file));
  emit(out, "    <errorlog>{}</errorlog>", xml_escape(c.error_log_file));
  emit(out, "    <size>100M</size>");
  emit(out, "    <count>5</count>");
  emit(out, "  </logger>");
  emit(out, "  <listen_host>{}</listen_host>", c.listen_host);
  emit(out, "  <http_port>{}</http_port>", c.http_port);
  emit(out, "  <tcp_port>{}</tcp_port>", c.tcp_port);
  emit(out, "  <interserver_http_port>{}</interserver_http_port>", c.interserver_http_port);
  emit(out, "  <interserver_http_host>{}</interserver_http_host>", c.interserver_http_host);
  emit(out, "  <max_connections>1024</max_connections>");
  emit(out, "  <keep_alive_timeout>3</keep_alive_timeout>");
  emit(out, "  <max_concurrent_queries>100</max_concurrent_queries>");
  emit(out, "  <mark_cache_size>{}</mark_cache_size>", c.sizing.mark_cache_size);
  emit(out, "  <uncompressed_cache_size>{}</uncompressed_cache_size>", c.sizing.uncompressed_cache_size);
  emit(out, "  <path>{}</path>", xml_escape(c.data_path));
  emit(out, "  <tmp_path>{}</tmp_path>", xml_escape(c.tmp_path));
  emit(out, "  <user_files_path>{}</user_files_path>", xml_escape(c.user_files_path));
  emit(out, "  <format_schema_path>{}</format_schema_path>", xml_escape(c.format_schema_path));
  emit(out, "  <users_config>{}</users_config>", xml_escape(c.users_config_file));
  emit(out, "  <default_profile>default</default_profile>");
  emit(out, "  <default_database>default</default_database>");
  emit(out, "  <timezone>UTC</timezone>");
  emit(out, "  <umask>077</umask>");
  emit(out, "  <mlock_executable>false</mlock_executable>");
  emit(out, "  <remote_servers>");
  emit(out, "    <{}>", c.cluster_name);
  for (const auto& shard : c.cluster) {
    emit(out, "      <shard>");
    // Replicated tables copy among themselves; Distributed writes one replica.
    emit(out, "        <internal_replication>true</internal_replication>");
    for (const auto& r : shard.replicas) {
      emit(out, "        <replica>");
      emit(out, "          <host>{}</host>", r.host);
      emit(out, "          <port>{}</port>", r.tcp_port);
      emit(out, "          <user>{}</user>", c.cluster_user);
      if (!c.cluster_password.empty())
        emit(out, "          <password>{}</password>", xml_escape(c.cluster_password));
      emit(out, "        </replica>");
    }
    emit(out, "      </shard>");
  }
  emit(out, "    </{}>", c.cluster_name);
  emit(out, "  </remote_servers>");
  if (!c.zookeeper.empty()) {
    emit(out, "  <zookeeper>");
    for (const auto& zk : c.zookeeper) {
      emit(out, "    <node>");
      emit(out, "      <host>{}</host>", zk.host);
      emit(out, "      <port>{}</port>", zk.port);
      emit(out, "    </node>");
    }
    emit(out, "    <session_timeout_ms>{}</session_timeout_ms>", c.zookeeper_session_timeout_ms);
    if (!c.zookeeper_root.empty()) emit(out, "    <root>{}</root>", c.zookeeper_root);
    emit(out, "  </zookeeper>");
    emit(out, "  <distributed_ddl>");
    emit(out, "    <path>/clickhouse/{}/task_queue/ddl</path>", c.cluster_name);
    emit(out, "  </distributed_ddl>");
  }
  emit(out, "  <macros>");
  emit(out, "    <cluster>{}</cluster>", c.cluster_name);
  emit(out, "    <shard>{}</shard>", c.shard);
  emit(out, "    <replica>{}</replica>", c.replica_name);
  emit(out, "  </macros>");
  // Without this element there is no system.query_log at all.
  emit(out, "  <query_log>");
  emit(out, "    <database>system</database>");
  emit(out, "    <table>query_log</table>");
  emit(out, "    <partition_by>toYYYYMMDD(event_date)</partition_by>");
  emit(out, "    <flush_interval_milliseconds>1000</flush_interval_milliseconds>");
  emit(out, "  </query_log>");
  emit(out, "</yandex>");
  return out;
}

std::string render_clickhouse_users(const ClickHouseUsersConfig& c) {
  check_sizing(c.sizing);
  if (c.users.empty()) throw Error::Invalid("invalid_config_value", "no user", "users");
  std::set<std::string> names;
  for (const auto& u : c.users) {
    require_identifier(u.name, "users.name");
    if (!names.insert(u.name).second)
      throw Error::Invalid("invalid_config_value", "duplicate user " + u.name, "users.name");
    require_sha256_hex(u.password_sha256_hex, "users.password_sha256_hex");
    // A user with no network would be reachable from anywhere: refuse.
    if (u.networks.empty())
      throw Error::Invalid("invalid_config_value", "user " + u.name + " has no network", "users.networks");
    for (const auto& n : u.networks) require_ip_or_cidr(n, "users.networks");
  }
  if (c.support) check_support(*c.support, names);
  const ClickHouseSizing& s = c.sizing;
  std::string out;
  emit(out, "<?xml version=\"1.0\"?>");
  emit(out, "<!-- Rendered by byoc; ClickHouse reloads this file by itself when it changes. -->");
  emit(out, "<yandex>");
  emit(out, "  <profiles>");
  emit(out, "    <default>");
  emit(out, "      <max_threads>{}</max_threads>", s.max_threads);
  emit(out, "      <max_memory_usage>{}</max_memory_usage>", s.max_memory_usage);
  emit(out, "      <max_memory_usage_for_all_queries>{}</max_memory_usage_for_all_queries>",
       s.max_memory_usage_for_all_queries);
  emit(out, "      <max_execution_time>{}</max_execution_time>", s.max_execution_time_seconds);
  emit(out, "      <timeout_overflow_mode>throw</timeout_overflow_mode>");
  emit(out, "      <use_uncompressed_cache>0</use_uncompressed_cache>");
  emit(out, "      <load_balancing>random</load_balancing>");
  emit(out, "      <insert_distributed_sync>1</insert_distributed_sync>");
  emit(out, "    </default>");
  if (c.support) {
    const ClickHouseSupportUser& su = *c.support;
    emit(out, "    <{}>", su.name);
    // readonly=1, not 2: not even settings of the query may change (so
    // neither log_queries nor any limit below).
    emit(out, "      <readonly>1</readonly>");
    emit(out, "      <log_queries>1</log_queries>");
    emit(out, "      <max_threads>{}</max_threads>", s.max_threads);
    emit(out, "      <max_memory_usage>{}</max_memory_usage>", s.max_memory_usage);
    emit(out, "      <max_memory_usage_for_all_queries>{}</max_memory_usage_for_all_queries>",
         s.max_memory_usage_for_all_queries);
    emit(out, "      <max_execution_time>{}</max_execution_time>", su.max_execution_time_seconds);
    emit(out, "      <timeout_overflow_mode>throw</timeout_overflow_mode>");
    emit(out, "      <max_result_rows>{}</max_result_rows>", su.max_result_rows);
    emit(out, "      <result_overflow_mode>throw</result_overflow_mode>");
    emit(out, "      <use_uncompressed_cache>0</use_uncompressed_cache>");
    emit(out, "      <load_balancing>random</load_balancing>");
    emit(out, "    </{}>", su.name);
  }
  emit(out, "  </profiles>");
  emit(out, "  <users>");
  for (const auto& u : c.users) {
    emit(out, "    <{}>", u.name);
    emit(out, "      <password_sha256_hex>{}</password_sha256_hex>", u.password_sha256_hex);
    emit(out, "      <networks>");
    for (const auto& n : u.networks) emit(out, "        <ip>{}</ip>", n);
    emit(out, "      </networks>");
    emit(out, "      <profile>default</profile>");
    emit(out, "      <quota>default</quota>");
    emit(out, "    </{}>", u.name);
  }
  if (c.support) {
    const ClickHouseSupportUser& su = *c.support;
    emit(out, "    <{}>", su.name);
    emit(out, "      <password_sha256_hex>{}</password_sha256_hex>", su.password_sha256_hex);
    emit(out, "      <networks>");
    for (const auto& n : su.networks) emit(out, "        <ip>{}</ip>", n);
    emit(out, "      </networks>");
    emit(out, "      <profile>{}</profile>", su.name);
    emit(out, "      <quota>{}</quota>", su.name);
    // `system` stays readable to every user whatever this says; this keeps
    // the support user out of the customer's databases.
    emit(out, "      <allow_databases>");
    emit(out, "        <database>system</database>");
    emit(out, "      </allow_databases>");
    emit(out, "    </{}>", su.name);
  }
  emit(out, "  </users>");
  emit(out, "  <quotas>");
  emit(out, "    <default>");
  emit(out, "      <interval>");
  emit(out, "        <duration>3600</duration>");
  emit(out, "        <queries>0</queries>");
  emit(out, "        <errors>0</errors>");
  emit(out, "        <result_rows>0</result_rows>");
  emit(out, "        <read_rows>0</read_rows>");
  emit(out, "        <execution_time>0</execution_time>");
  emit(out, "      </interval>");
  emit(out, "    </default>");
  if (c.support) {
    const ClickHouseSupportUser& su = *c.support;
    emit(out, "    <{}>", su.name);
    // One account per X-ClickHouse-Quota value; a quota that isn't keyed
    // refuses a client-supplied key (code 200).
    emit(out, "      <keyed>1</keyed>");
    emit(out, "      <interval>");
    emit(out, "        <duration>{}</duration>", su.quota_interval_seconds);
    emit(out, "        <queries>{}</queries>", su.quota_queries);
    emit(out, "        <errors>{}</errors>", su.quota_errors);
    emit(out, "        <result_rows>{}</result_rows>", su.quota_result_rows);
    emit(out, "        <read_rows>{}</read_rows>", su.quota_read_rows);
    emit(out, "        <execution_time>{}</execution_time>", su.quota_execution_time_seconds);
    emit(out, "      </interval>");
    emit(out, "    </{}>", su.name);
  }
  emit(out, "  </quotas>");
  emit(out, "</yandex>");
  return out;
}

}  // namespace byoc::render
