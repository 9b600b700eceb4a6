// SqlVersions and SqlUpgrades: the columns filtered or ordered on, and the
// whole record as JSON (the storage form, apart from the API's).
#include <nlohmann/json.hpp>

#include "store/sql/repositories.h"

namespace byoc::store::sql {
using nlohmann::json;

namespace {

json version_document(const model::PublishedVersion& v) {
  return {{"kind", v.kind},
          {"name", v.name},
          {"published_at", v.published_at},
          {"published_by", v.published_by},
          {"created_at", v.created_at}};
}

model::PublishedVersion version_from_document(const json& j) {
  return {j.at("kind"), j.at("name"), j.at("published_at"), j.at("published_by"), j.at("created_at")};
}

// A Kubernetes upgrade's run; absent for a ClickHouse upgrade (and in rows
// written before it existed, which read back as empty).
json cluster_document(const model::ClusterUpgradeProgress& c) {
  return {{"journal", c.journal},
          {"deadline", c.deadline},
          {"resume_at", c.resume_at},
          {"paused_at", c.paused_at},
          {"phase", c.phase},
          {"events", c.events},
          {"last_event", c.last_event},
          {"last_event_at", c.last_event_at},
          {"failed_node_groups", c.failed_node_groups},
          {"quarantined", c.quarantined}};
}

model::ClusterUpgradeProgress cluster_from_document(const json& j) {
  model::ClusterUpgradeProgress c;
  c.journal = j.value("journal", "");
  c.deadline = j.value("deadline", int64_t{0});
  c.resume_at = j.value("resume_at", int64_t{0});
  c.paused_at = j.value("paused_at", int64_t{0});
  c.phase = j.value("phase", "");
  c.events = j.value("events", 0);
  c.last_event = j.value("last_event", "");
  c.last_event_at = j.value("last_event_at", int64_t{0});
  c.failed_node_groups = j.value("failed_node_groups", std::vector<std::string>{});
  c.quarantined = j.value("quarantined", std::map<std::string, std::string>{});
  return c;
}

json upgrade_document(const model::Upgrade& u) {
  json out = {{"id", u.id},
          {"environment_id", u.environment_id},
          {"organization", u.organization},
          {"service_name", u.service_name},
          {"kind", u.kind},
          {"from_version", u.from_version},
          {"to_version", u.to_version},
          {"state", u.state},
          {"available_at", u.available_at},
          {"deferred_until", u.deferred_until},
          {"started", u.started},
          {"running_until", u.running_until},
          {"replicas_done", u.replicas_done},
          {"replicas_total", u.replicas_total},
          {"failed_shard", u.failed_shard},
          {"failed_replica", u.failed_replica},
          {"failed_check", u.failed_check},
          {"waiting_for", u.waiting_for},
          {"created_at", u.created_at},
          {"updated_at", u.updated_at},
          {"finished_at", u.finished_at}};
  if (u.kind == model::kVersionEks) out["cluster"] = cluster_document(u.cluster);
  return out;
}

model::Upgrade upgrade_from_document(const json& j) {
  model::Upgrade u;
  u.id = j.at("id");
  u.environment_id = j.at("environment_id");
  u.organization = j.at("organization");
  u.service_name = j.at("service_name");
  u.kind = j.at("kind");
  u.from_version = j.at("from_version");
  u.to_version = j.at("to_version");
  u.state = j.at("state");
  u.available_at = j.at("available_at");
  u.deferred_until = j.at("deferred_until");
  u.started = j.at("started");
  u.running_until = j.at("running_until");
  u.replicas_done = j.at("replicas_done");
  u.replicas_total = j.at("replicas_total");
  u.failed_shard = j.at("failed_shard");
  u.failed_replica = j.at("failed_replica");
  u.failed_check = j.at("failed_check");
  u.waiting_for = j.value("waiting_for", "");
  u.created_at = j.at("created_at");
  u.updated_at = j.at("updated_at");
  u.finished_at = j.at("finished_at");
  if (j.contains("cluster")) u.cluster = cluster_from_document(j.at("cluster"));
  return u;
}

}  // namespace

std::optional<model::PublishedVersion> SqlVersions::by_name(const std::string& kind, const std::string& name) {
  Statement st(session_, "SELECT record FROM versions WHERE kind = ? AND name = ?");
  st.bind(1, kind).bind(2, name);
  if (!st.step()) return std::nullopt;
  return version_from_document(json::parse(st.text(0)));
}

std::vector<model::PublishedVersion> SqlVersions::list(const std::string& kind) {
  Statement st(session_, std::string("SELECT record FROM versions") + (kind.empty() ? "" : " WHERE kind = ?") +
                             " ORDER BY published_at, name");
  if (!kind.empty()) st.bind(1, kind);
  std::vector<model::PublishedVersion> out;
  while (st.step()) out.push_back(version_from_document(json::parse(st.text(0))));
  return out;
}

void SqlVersions::put(const model::PublishedVersion& v) {
  Statement(session_,
            "INSERT INTO versions (kind, name, published_at, record) VALUES (?,?,?,?) "
            "ON CONFLICT(kind, name) DO UPDATE SET published_at=excluded.published_at, record=excluded.record")
      .bind(1, v.kind)
      .bind(2, v.name)
      .bind(3, v.published_at)
      .bind(4, version_document(v).dump())
      .run();
}

std::optional<model::Upgrade> SqlUpgrades::by_id(const std::string& id) {
  Statement st(session_, "SELECT record FROM upgrades WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return upgrade_from_document(json::parse(st.text(0)));
}

std::vector<model::Upgrade> SqlUpgrades::list(const std::string& environment_id, bool open_only) {
  Statement st(session_, std::string("SELECT record FROM upgrades WHERE environment_id = ?") +
                             (open_only ? " AND state IN ('pending', 'running', 'paused')" : "") +
                             " ORDER BY created_at, id");
  st.bind(1, environment_id);
  std::vector<model::Upgrade> out;
  while (st.step()) out.push_back(upgrade_from_document(json::parse(st.text(0))));
  return out;
}

std::vector<std::string> SqlUpgrades::environments_with_open() {
  Statement st(session_,
               "SELECT DISTINCT environment_id FROM upgrades WHERE state IN ('pending', 'running', 'paused') "
               "ORDER BY environment_id");
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

void SqlUpgrades::put(const model::Upgrade& u) {
  Statement(session_,
            "INSERT INTO upgrades (id, environment_id, state, created_at, record) VALUES (?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET state=excluded.state, record=excluded.record")
      .bind(1, u.id)
      .bind(2, u.environment_id)
      .bind(3, u.state)
      .bind(4, u.created_at)
      .bind(5, upgrade_document(u).dump())
      .run();
}

}  // namespace byoc::store::sql
