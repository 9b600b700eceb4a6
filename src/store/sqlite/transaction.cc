#include "store/sqlite/transaction.h"

#include <nlohmann/json.hpp>

#include "store/sqlite/columns.h"

namespace byoc::store::sqlite {
namespace {
using nlohmann::json;

json steps_to_json(const std::vector<model::OperationStep>& steps) {
  json out = json::array();
  for (const auto& s : steps) out.push_back({{"name", s.name}, {"state", s.state}});
  return out;
}

constexpr const char* kEnvironmentColumns =
    "id, organization, name, cloud, region, cidr, zones, state, conditions, revision, ca_pem, created_at, "
    "updated_at, applied_revision, instance_types, daemonset_cpu_millis, daemonset_memory_mib, host_cores, "
    "host_memory_mib, cloud_state";

model::Environment read_environment(const Statement& st) {
  model::Environment e;
  e.id = st.text(0);
  e.organization = st.text(1);
  e.name = st.text(2);
  e.cloud = st.text(3);
  e.region = st.text(4);
  e.cidr = st.text(5);
  e.zones = parse_string_array_column(st.text(6));
  e.state = st.text(7);
  e.conditions = parse_conditions_column(st.text(8));
  e.revision = st.integer(9);
  e.ca_pem = st.text(10);
  e.created_at = st.integer(11);
  e.updated_at = st.integer(12);
  e.applied_revision = st.integer(13);
  e.instance_types = parse_string_array_column(st.text(14));
  e.daemonset_cpu_millis = static_cast<int>(st.integer(15));
  e.daemonset_memory_mib = static_cast<int>(st.integer(16));
  e.host_cores = static_cast<int>(st.integer(17));
  e.host_memory_mib = st.integer(18);
  parse_cloud_state_column(st.text(19), e);
  return e;
}

constexpr const char* kServiceColumns =
    "id, environment_id, name, clickhouse_version, shards, replicas, cpu_millis, memory_mib, allowed_ips, "
    "password_sha256_hex, state, reason, endpoint, created_at, updated_at, profile, native_endpoint";

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
  return s;
}

constexpr const char* kOperationColumns =
    "id, kind, environment_id, environment_name, service_name, status, steps, result, error, created_at, "
    "updated_at, organization";

model::Operation read_operation(const Statement& st) {
  model::Operation o;
  o.id = st.text(0);
  o.kind = st.text(1);
  o.environment_id = st.text(2);
  o.environment_name = st.text(3);
  o.service_name = st.text(4);
  o.status = st.text(5);
  for (const auto& s : json::parse(st.text(6))) o.steps.push_back({s.at("name"), s.at("state")});
  o.result = json::parse(st.text(7));
  o.error = json::parse(st.text(8));
  o.created_at = st.integer(9);
  o.updated_at = st.integer(10);
  o.organization = st.text(11);
  return o;
}

class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(StatementCache& cache) : db_(cache.db()), cache_(cache) {}

  std::optional<model::Environment> environment_by_id(const std::string& id) override {
    Statement st(cache_, std::string("SELECT ") + kEnvironmentColumns + " FROM environments WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_environment(st);
  }

  std::optional<model::Environment> environment_by_name(const std::string& organization,
                                                        const std::string& name) override {
    Statement st(cache_, std::string("SELECT ") + kEnvironmentColumns +
                          " FROM environments WHERE organization = ? AND name = ?");
    st.bind(1, organization).bind(2, name);
    if (!st.step()) return std::nullopt;
    return read_environment(st);
  }

  std::vector<model::Environment> environments(const std::string& organization) override {
    // Two texts rather than "? = '' OR organization = ?", which no index can serve.
    Statement st(cache_, std::string("SELECT ") + kEnvironmentColumns + " FROM environments" +
                             (organization.empty() ? "" : " WHERE organization = ?") +
                             " ORDER BY organization, name");
    if (!organization.empty()) st.bind(1, organization);
    std::vector<model::Environment> out;
    while (st.step()) out.push_back(read_environment(st));
    return out;
  }

  void put_environment(const model::Environment& e) override {
    Statement st(cache_, std::string("INSERT INTO environments (") + kEnvironmentColumns +
                          ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                          "cloud_state=excluded.cloud_state, host_cores=excluded.host_cores, host_memory_mib=excluded.host_memory_mib, "
                          "applied_revision=excluded.applied_revision, instance_types=excluded.instance_types, "
                          "daemonset_cpu_millis=excluded.daemonset_cpu_millis, "
                          "daemonset_memory_mib=excluded.daemonset_memory_mib, organization=excluded.organization, name=excluded.name, cloud=excluded.cloud, "
                          "region=excluded.region, cidr=excluded.cidr, zones=excluded.zones, state=excluded.state, "
                          "conditions=excluded.conditions, revision=excluded.revision, ca_pem=excluded.ca_pem, "
                          "created_at=excluded.created_at, updated_at=excluded.updated_at");
    st.bind(1, e.id).bind(2, e.organization).bind(3, e.name).bind(4, e.cloud).bind(5, e.region).bind(6, e.cidr);
    st.bind(7, string_array_column(e.zones)).bind(8, e.state).bind(9, conditions_column(e.conditions));
    st.bind(10, e.revision).bind(11, e.ca_pem).bind(12, e.created_at).bind(13, e.updated_at);
    st.bind(14, e.applied_revision).bind(15, string_array_column(e.instance_types)).bind(16, e.daemonset_cpu_millis);
    st.bind(17, e.daemonset_memory_mib).bind(18, e.host_cores).bind(19, e.host_memory_mib);
    st.bind(20, cloud_state_column(e)).run();
  }

  void delete_environment(const std::string& id) override {
    Statement(cache_, "DELETE FROM environments WHERE id = ?").bind(1, id).run();
  }

  std::optional<model::Service> service_by_id(const std::string& id) override {
    Statement st(cache_, std::string("SELECT ") + kServiceColumns + " FROM services WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_service(st);
  }

  std::optional<model::Service> service_by_name(const std::string& environment_id,
                                                const std::string& name) override {
    Statement st(cache_, std::string("SELECT ") + kServiceColumns +
                          " FROM services WHERE environment_id = ? AND name = ?");
    st.bind(1, environment_id).bind(2, name);
    if (!st.step()) return std::nullopt;
    return read_service(st);
  }

  std::vector<model::Service> services(const std::string& environment_id) override {
    Statement st(cache_, std::string("SELECT ") + kServiceColumns + " FROM services" +
                             (environment_id.empty() ? "" : " WHERE environment_id = ?") +
                             " ORDER BY environment_id, name");
    if (!environment_id.empty()) st.bind(1, environment_id);
    std::vector<model::Service> out;
    while (st.step()) out.push_back(read_service(st));
    return out;
  }

  void put_service(const model::Service& s) override {
    Statement st(cache_, std::string("INSERT INTO services (") + kServiceColumns +
                          ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                          "profile=excluded.profile, native_endpoint=excluded.native_endpoint, environment_id=excluded.environment_id, name=excluded.name, "
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
    st.run();
  }

  void delete_service(const std::string& id) override {
    Statement(cache_, "DELETE FROM services WHERE id = ?").bind(1, id).run();
  }

  std::optional<model::Operation> operation(const std::string& id) override {
    Statement st(cache_, std::string("SELECT ") + kOperationColumns + " FROM operations WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_operation(st);
  }

  std::vector<model::Operation> running_operations(const std::string& environment_id) override {
    // Two texts, each served by a partial index (as in environments()).
    Statement st(cache_, std::string("SELECT ") + kOperationColumns + " FROM operations WHERE status = 'running'" +
                             (environment_id.empty() ? "" : " AND environment_id = ?") + " ORDER BY created_at, id");
    if (!environment_id.empty()) st.bind(1, environment_id);
    std::vector<model::Operation> out;
    while (st.step()) out.push_back(read_operation(st));
    return out;
  }

  void put_operation(const model::Operation& o) override {
    Statement st(cache_, std::string("INSERT INTO operations (") + kOperationColumns +
                          ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                          "status=excluded.status, steps=excluded.steps, result=excluded.result, "
                          "error=excluded.error, updated_at=excluded.updated_at");
    st.bind(1, o.id).bind(2, o.kind).bind(3, o.environment_id).bind(4, o.environment_name);
    st.bind(5, o.service_name).bind(6, o.status).bind(7, steps_to_json(o.steps).dump());
    st.bind(8, o.result.dump()).bind(9, o.error.dump()).bind(10, o.created_at).bind(11, o.updated_at);
    st.bind(12, o.organization).run();
  }

  std::optional<ApiToken> api_token(const std::string& id) override {
    Statement st(cache_,
                 "SELECT id, secret_sha256_hex, role, organization, created_at, subject FROM api_tokens WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return ApiToken{st.text(0), st.text(1), st.text(2), st.text(3), st.integer(4), st.text(5)};
  }

  std::vector<ApiToken> api_tokens() override {
    Statement st(cache_,
                 "SELECT id, secret_sha256_hex, role, organization, created_at, subject FROM api_tokens ORDER BY id");
    std::vector<ApiToken> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.integer(4), st.text(5)});
    return out;
  }

  void put_api_token(const ApiToken& t) override {
    Statement st(cache_,
                 "INSERT OR REPLACE INTO api_tokens (id, secret_sha256_hex, role, organization, created_at, subject) "
                 "VALUES (?,?,?,?,?,?)");
    st.bind(1, t.id).bind(2, t.secret_sha256_hex).bind(3, t.role).bind(4, t.organization).bind(5, t.created_at);
    st.bind(6, t.subject);
    st.run();
  }

  void delete_api_token(const std::string& id) override {
    Statement(cache_, "DELETE FROM api_tokens WHERE id = ?").bind(1, id).run();
  }

  std::optional<Organization> organization(const std::string& name) override {
    Statement st(cache_, "SELECT name, created_at FROM organizations WHERE name = ?");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    return Organization{st.text(0), st.integer(1)};
  }

  std::vector<Organization> organizations() override {
    Statement st(cache_, "SELECT name, created_at FROM organizations ORDER BY name");
    std::vector<Organization> out;
    while (st.step()) out.push_back({st.text(0), st.integer(1)});
    return out;
  }

  void put_organization(const Organization& o) override {
    Statement(cache_, "INSERT INTO organizations VALUES (?, ?)").bind(1, o.name).bind(2, o.created_at).run();
  }

  std::optional<IdempotentResponse> idempotent_response(const std::string& token_id,
                                                        const std::string& key) override {
    Statement st(cache_,
                 "SELECT token_id, key, fingerprint, status, body, created_at FROM idempotency_keys "
                 "WHERE token_id = ? AND key = ?");
    st.bind(1, token_id).bind(2, key);
    if (!st.step()) return std::nullopt;
    return IdempotentResponse{st.text(0), st.text(1), st.text(2), static_cast<int>(st.integer(3)), st.text(4),
                              st.integer(5)};
  }

  void put_idempotent_response(const IdempotentResponse& r) override {
    Statement st(cache_, "INSERT INTO idempotency_keys VALUES (?,?,?,?,?,?)");
    st.bind(1, r.token_id).bind(2, r.key).bind(3, r.fingerprint).bind(4, r.status).bind(5, r.body);
    st.bind(6, r.created_at).run();
  }

  std::optional<JoinToken> join_token(const std::string& id) override {
    Statement st(cache_,
                 "SELECT id, environment_id, secret_sha256_hex, expires_at, used_at FROM join_tokens WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return JoinToken{st.text(0), st.text(1), st.text(2), st.integer(3), st.integer(4)};
  }

  void put_join_token(const JoinToken& t) override {
    Statement st(cache_, "INSERT OR REPLACE INTO join_tokens VALUES (?,?,?,?,?)");
    st.bind(1, t.id).bind(2, t.environment_id).bind(3, t.secret_sha256_hex).bind(4, t.expires_at);
    st.bind(5, t.used_at).run();
  }

  std::optional<Agent> agent(const std::string& environment_id) override {
    Statement st(cache_,
                 "SELECT environment_id, certificate_serial, joined_at, previous_serial FROM agents "
                 "WHERE environment_id = ?");
    st.bind(1, environment_id);
    if (!st.step()) return std::nullopt;
    return Agent{st.text(0), st.text(1), st.integer(2), st.text(3)};
  }

  void put_agent(const Agent& a) override {
    Statement st(cache_,
                 "INSERT OR REPLACE INTO agents (environment_id, certificate_serial, joined_at, previous_serial) "
                 "VALUES (?,?,?,?)");
    st.bind(1, a.environment_id).bind(2, a.certificate_serial).bind(3, a.joined_at).bind(4, a.previous_serial);
    st.run();
  }

  bool insert_usage(const std::string& environment_id, const model::UsageInterval& u) override {
    Statement st(cache_, "INSERT OR IGNORE INTO usage_intervals VALUES (?,?,?,?,?,?,?,?,?)");
    st.bind(1, environment_id).bind(2, u.seq).bind(3, u.service).bind(4, u.shard).bind(5, u.replica);
    st.bind(6, u.start).bind(7, u.end).bind(8, u.cpu_millis_seconds).bind(9, u.memory_mib_seconds);
    st.run();
    return sqlite3_changes(db_) == 1;
  }

  int64_t max_usage_seq(const std::string& environment_id) override {
    Statement st(cache_, "SELECT COALESCE(MAX(seq), 0) FROM usage_intervals WHERE environment_id = ?");
    st.bind(1, environment_id);
    st.step();
    return st.integer(0);
  }

  UsageTotals usage_totals(const std::string& environment_id) override {
    Statement st(cache_,
                 "SELECT COUNT(*), COALESCE(SUM(cpu_millis_seconds), 0), COALESCE(SUM(memory_mib_seconds), 0) "
                 "FROM usage_intervals WHERE environment_id = ?");
    st.bind(1, environment_id);
    st.step();
    return {st.integer(0), st.integer(1), st.integer(2)};
  }

  bool acquire_lease(const std::string& key, const std::string& holder, int64_t now,
                     int64_t ttl_seconds) override {
    Statement st(cache_,
                 "INSERT INTO leases VALUES (?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET holder = ?2, "
                 "expires_at = ?3 WHERE leases.holder = ?2 OR leases.expires_at <= ?4");
    st.bind(1, key).bind(2, holder).bind(3, now + ttl_seconds).bind(4, now).run();
    return sqlite3_changes(db_) == 1;
  }

  void release_lease(const std::string& key, const std::string& holder) override {
    Statement(cache_, "DELETE FROM leases WHERE key = ? AND holder = ?").bind(1, key).bind(2, holder).run();
  }

 private:
  sqlite3* db_;
  StatementCache& cache_;
};

}  // namespace

void with_transaction(StatementCache& cache, const std::function<void(Transaction&)>& fn) {
  SqliteTransaction tx(cache);
  fn(tx);
}

}  // namespace byoc::store::sqlite
