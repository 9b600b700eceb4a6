#include "store/sql/migrations.h"

#include <regex>

namespace byoc::store::sql {

// Each migration is written once, in SQLite's words; PostgreSQL's text is
// the same with its names for three things (postgres_text below).
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all = {
      // 1: the walking skeleton's resources.
      {R"sql(
      CREATE TABLE environments (
        id TEXT PRIMARY KEY,
        organization TEXT NOT NULL,
        name TEXT NOT NULL,
        cloud TEXT NOT NULL,
        region TEXT NOT NULL,
        cidr TEXT NOT NULL,
        zones TEXT NOT NULL,
        state TEXT NOT NULL,
        conditions TEXT NOT NULL,
        revision INTEGER NOT NULL,
        ca_pem TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (organization, name)
      );
      CREATE TABLE services (
        id TEXT PRIMARY KEY,
        environment_id TEXT NOT NULL REFERENCES environments(id),
        name TEXT NOT NULL,
        clickhouse_version TEXT NOT NULL,
        shards INTEGER NOT NULL,
        replicas INTEGER NOT NULL,
        cpu_millis INTEGER NOT NULL,
        memory_mib INTEGER NOT NULL,
        allowed_ips TEXT NOT NULL,
        password_sha256_hex TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (environment_id, name)
      );
      CREATE TABLE operations (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        environment_id TEXT NOT NULL,
        environment_name TEXT NOT NULL,
        service_name TEXT NOT NULL,
        status TEXT NOT NULL,
        steps TEXT NOT NULL,
        result TEXT NOT NULL,
        error TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX operations_running ON operations(status) WHERE status = 'running';
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        secret_sha256_hex TEXT NOT NULL,
        role TEXT NOT NULL,
        organization TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE join_tokens (
        id TEXT PRIMARY KEY,
        environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
        secret_sha256_hex TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER NOT NULL
      );
      CREATE TABLE agents (
        environment_id TEXT PRIMARY KEY REFERENCES environments(id) ON DELETE CASCADE,
        certificate_serial TEXT NOT NULL,
        joined_at INTEGER NOT NULL
      );
      CREATE TABLE usage_intervals (
        environment_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        service TEXT NOT NULL,
        shard INTEGER NOT NULL,
        replica INTEGER NOT NULL,
        start_at INTEGER NOT NULL,
        end_at INTEGER NOT NULL,
        cpu_millis_seconds INTEGER NOT NULL,
        memory_mib_seconds INTEGER NOT NULL,
        PRIMARY KEY (environment_id, seq)
      );
      CREATE TABLE leases (
        key TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      )sql"},
      // 2: organisations and idempotent POSTs.
      {R"sql(
      CREATE TABLE organizations (
        name TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      );
      INSERT INTO organizations VALUES ('default', strftime('%s','now'));
      CREATE TABLE idempotency_keys (
        token_id TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (token_id, key)
      );
      ALTER TABLE operations ADD COLUMN organization TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE environments ADD COLUMN applied_revision INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE environments ADD COLUMN instance_types TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE environments ADD COLUMN daemonset_cpu_millis INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE environments ADD COLUMN daemonset_memory_mib INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE services ADD COLUMN profile TEXT NOT NULL DEFAULT '';
      ALTER TABLE services ADD COLUMN native_endpoint TEXT NOT NULL DEFAULT '';
      ALTER TABLE environments ADD COLUMN host_cores INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE environments ADD COLUMN host_memory_mib INTEGER NOT NULL DEFAULT 0;
      )sql"},
      // 3: every sync that settles an operation looks up its environment's
      // running ones (scanning them all was quadratic); agents' certificates
      // are renewed, the replaced one accepted until the new one is used.
      {R"sql(
      CREATE INDEX operations_running_by_environment ON operations(environment_id, created_at)
        WHERE status = 'running';
      ALTER TABLE agents ADD COLUMN previous_serial TEXT NOT NULL DEFAULT '';
      )sql"},
      // 4: the cloud driver's handle and the action in flight with its
      // idempotency token, recorded before the driver is called.
      {R"sql(
      ALTER TABLE environments ADD COLUMN cloud_state TEXT NOT NULL DEFAULT '{}';
      )sql"},
      // 5: who holds each API token, so reviews and the audit log tell people apart.
      {R"sql(
      ALTER TABLE api_tokens ADD COLUMN subject TEXT NOT NULL DEFAULT '';
      )sql"},
      // 6: several servers on one store: the servers of the plane, which
      // server holds each agent's sync, and gapless logs (one per key).
      {R"sql(
      CREATE TABLE servers (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL
      );
      CREATE TABLE agent_sessions (
        environment_id TEXT PRIMARY KEY REFERENCES environments(id) ON DELETE CASCADE,
        server_id TEXT NOT NULL,
        since INTEGER NOT NULL
      );
      CREATE TABLE log_heads (
        key TEXT PRIMARY KEY,
        size INTEGER NOT NULL
      );
      CREATE TABLE log_entries (
        key TEXT NOT NULL,
        idx INTEGER NOT NULL,
        entry BLOB NOT NULL,
        PRIMARY KEY (key, idx)
      );
      )sql"},
      // 7: troubleshooting access: each environment's access policies (the
      // vendor's, and the customer's as its agent reports it) and the access
      // requests, kept forever (no foreign key: they outlive environments).
      {R"sql(
      ALTER TABLE environments ADD COLUMN access TEXT NOT NULL DEFAULT '{}';
      CREATE TABLE access_requests (
        id TEXT PRIMARY KEY,
        environment_id TEXT NOT NULL,
        requester TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX access_requests_by_environment ON access_requests(environment_id, created_at);
      CREATE INDEX access_requests_open ON access_requests(state)
        WHERE state IN ('PENDING', 'APPROVED', 'ACTIVE');
      )sql"},
      // 8: each service's support gateway (troubleshooting access by certificate).
      {R"sql(
      ALTER TABLE services ADD COLUMN support_gateway TEXT NOT NULL DEFAULT '';
      )sql"},
      // 9: maintenance policies (an environment's default, a service's own
      // or '' to inherit it).
      {R"sql(
      ALTER TABLE environments ADD COLUMN maintenance TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE services ADD COLUMN maintenance TEXT NOT NULL DEFAULT '';
      )sql"},
      // 10: upgrades: the versions the vendor publishes, the upgrades they
      // make pending, each service's requested rollout and its progress, and
      // the protocol each environment's agent speaks.
      {R"sql(
      ALTER TABLE services ADD COLUMN rollout TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE environments ADD COLUMN agent_protocol INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE versions (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (kind, name)
      );
      CREATE TABLE upgrades (
        id TEXT PRIMARY KEY,
        environment_id TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX upgrades_by_environment ON upgrades(environment_id, created_at);
      CREATE INDEX upgrades_open ON upgrades(state) WHERE state IN ('pending', 'running', 'paused');
      )sql"},
      // 11: resizing: the node type the placement planner chose for a custom
      // size, and a resize waiting for the service's window ('' for none).
      {R"sql(
      ALTER TABLE services ADD COLUMN node_type TEXT NOT NULL DEFAULT '';
      ALTER TABLE services ADD COLUMN pending_resize TEXT NOT NULL DEFAULT '';
      )sql"},
  };
  return all;
}

std::string postgres_text(const std::string& sqlite) {
  // SQLite's INTEGER is 64-bit, PostgreSQL's is not; bytes are BYTEA; the
  // current time in seconds is spelt differently.
  std::string out = std::regex_replace(sqlite, std::regex("\\bINTEGER\\b"), "BIGINT");
  out = std::regex_replace(out, std::regex("\\bBLOB\\b"), "BYTEA");
  return std::regex_replace(out, std::regex("strftime\\('%s', *'now'\\)"), "extract(epoch from now())::bigint");
}

std::string Migration::text(Dialect dialect) const {
  return dialect == Dialect::kSqlite ? std::string(sqlite) : postgres_text(sqlite);
}

}  // namespace byoc::store::sql
