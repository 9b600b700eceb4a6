// SqlServices over the table services: one row per service; allowed_ips is a JSON column.
#include "store/sql/columns.h"
#include "store/sql/repositories.h"

namespace byoc::store::sql {
namespace {
constexpr const char* kServiceColumns =
    "id, environment_id, name, clickhouse_version, shards, replicas, cpu_millis, memory_mib, allowed_ips, "
    "password_sha256_hex, state, reason, endpoint, created_at, updated_at, profile, native_endpoint, support_gateway, "
    "maintenance, rollout, node_type, pending_resize";

model::Service read_service(const Statement& st) {
  model::Service s;
  s.id = st.text(0);
  s.environment_id = st.text(1);
  s.name = st.text(2);
  s.clickhouse_version = st.text(3);
  s.shards = static_cast<int>(st.integer(4));
  s.replicas = static_cast<int>(st.integer(5));
  s.cpu_millis = static_cast<int>(st.integer(6));
  s.memory_mib = static_cast<int>(st.integer(7));
  s.allowed_ips = parse_string_array_column(st.text(8));
  s.password_sha256_hex = st.text(9);
  s.state = st.text(10);
  s.reason = st.text(11);
  s.endpoint = st.text(12);
  s.created_at = st.integer(13);
  s.updated_at = st.integer(14);
  s.profile = st.text(15);
  s.native_endpoint = st.text(16);
  s.support_gateway = st.text(17);
  s.maintenance = parse_maintenance_column(st.text(18));
  parse_rollout_column(st.text(19), s);
  s.node_type = st.text(20);
  s.pending_resize = parse_resize_column(st.text(21));
  return s;
}

}  // namespace

std::optional<model::Service> SqlServices::by_id(const std::string& id) {
  Statement st(session_, std::string("SELECT ") + kServiceColumns + " FROM services WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_service(st);
}

std::optional<model::Service> SqlServices::by_name(const std::string& environment_id, const std::string& name) {
  Statement st(session_,
               std::string("SELECT ") + kServiceColumns + " FROM services WHERE environment_id = ? AND name = ?");
  st.bind(1, environment_id).bind(2, name);
  if (!st.step()) return std::nullopt;
  return read_service(st);
}

std::vector<model::Service> SqlServices::list(const std::string& environment_id) {
  Statement st(session_, std::string("SELECT ") + kServiceColumns + " FROM services" +
                           (environment_id.empty() ? "" : " WHERE environment_id = ?") +
                           " ORDER BY environment_id, name");
  if (!environment_id.empty()) st.bind(1, environment_id);
  std::vector<model::Service> out;
  while (st.step()) out.push_back(read_service(st));
  return out;
}

void SqlServices::put(const model::Service& s) {
  Statement st(session_, std::string("INSERT INTO services (") + kServiceColumns +
                           ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                           "node_type=excluded.node_type, pending_resize=excluded.pending_resize, "
                           "rollout=excluded.rollout, maintenance=excluded.maintenance, profile=excluded.profile, native_endpoint=excluded.native_endpoint, "
                           "support_gateway=excluded.support_gateway, "
                           "environment_id=excluded.environment_id, name=excluded.name, "
                           "clickhouse_version=excluded.clickhouse_version, shards=excluded.shards, "
                           "replicas=excluded.replicas, cpu_millis=excluded.cpu_millis, "
                           "memory_mib=excluded.memory_mib, allowed_ips=excluded.allowed_ips, "
                           "password_sha256_hex=excluded.password_sha256_hex, state=excluded.state, "
                           "reason=excluded.reason, endpoint=excluded.endpoint, created_at=excluded.created_at, "
                           "updated_at=excluded.updated_at");
  st.bind(1, s.id).bind(2, s.environment_id).bind(3, s.name).bind(4, s.clickhouse_version).bind(5, s.shards);
  st.bind(6, s.replicas).bind(7, s.cpu_millis).bind(8, s.memory_mib).bind(9, string_array_column(s.allowed_ips));
  st.bind(10, s.password_sha256_hex).bind(11, s.state).bind(12, s.reason).bind(13, s.endpoint);
  st.bind(14, s.created_at).bind(15, s.updated_at).bind(16, s.profile).bind(17, s.native_endpoint);
  st.bind(18, s.support_gateway).bind(19, maintenance_column(s.maintenance)).bind(20, rollout_column(s));
  st.bind(21, s.node_type).bind(22, resize_column(s.pending_resize));
  st.run();
}

void SqlServices::remove(const std::string& id) {
  Statement(session_, "DELETE FROM services WHERE id = ?").bind(1, id).run();
}

}  // namespace byoc::store::sql
