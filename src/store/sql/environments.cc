// SqlEnvironments over the table environments: one row per environment; zones, conditions and
// the cloud state are JSON columns.
#include "store/sql/columns.h"
#include "store/sql/repositories.h"

namespace byoc::store::sql {
namespace {
constexpr const char* kEnvironmentColumns =
    "id, organization, name, cloud, region, cidr, zones, state, conditions, revision, ca_pem, created_at, "
    "updated_at, applied_revision, instance_types, daemonset_cpu_millis, daemonset_memory_mib, host_cores, "
    "host_memory_mib, cloud_state, access, maintenance, agent_protocol";

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
  parse_access_column(st.text(20), e);
  e.maintenance = parse_maintenance_column(st.text(21)).value_or(model::MaintenancePolicy{});
  e.agent_protocol = static_cast<int>(st.integer(22));
  return e;
}

}  // namespace

std::optional<model::Environment> SqlEnvironments::by_id(const std::string& id) {
  Statement st(session_, std::string("SELECT ") + kEnvironmentColumns + " FROM environments WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_environment(st);
}

std::optional<model::Environment> SqlEnvironments::by_name(const std::string& organization,
                                                              const std::string& name) {
  Statement st(session_,
               std::string("SELECT ") + kEnvironmentColumns + " FROM environments WHERE organization = ? AND name = ?");
  st.bind(1, organization).bind(2, name);
  if (!st.step()) return std::nullopt;
  return read_environment(st);
}

std::vector<model::Environment> SqlEnvironments::list(const std::string& organization) {
  // Two texts rather than "? = '' OR organization = ?", which no index can serve.
  Statement st(session_, std::string("SELECT ") + kEnvironmentColumns + " FROM environments" +
                           (organization.empty() ? "" : " WHERE organization = ?") + " ORDER BY organization, name");
  if (!organization.empty()) st.bind(1, organization);
  std::vector<model::Environment> out;
  while (st.step()) out.push_back(read_environment(st));
  return out;
}

void SqlEnvironments::put(const model::Environment& e) {
  Statement st(
      session_,
      std::string("INSERT INTO environments (") + kEnvironmentColumns +
          ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
          "agent_protocol=excluded.agent_protocol, maintenance=excluded.maintenance, access=excluded.access, cloud_state=excluded.cloud_state, host_cores=excluded.host_cores, host_memory_mib=excluded.host_memory_mib, "
          "applied_revision=excluded.applied_revision, instance_types=excluded.instance_types, "
          "daemonset_cpu_millis=excluded.daemonset_cpu_millis, "
          "daemonset_memory_mib=excluded.daemonset_memory_mib, organization=excluded.organization, name=excluded.name, "
          "cloud=excluded.cloud, "
          "region=excluded.region, cidr=excluded.cidr, zones=excluded.zones, state=excluded.state, "
          "conditions=excluded.conditions, revision=excluded.revision, ca_pem=excluded.ca_pem, "
          "created_at=excluded.created_at, updated_at=excluded.updated_at");
  st.bind(1, e.id).bind(2, e.organization).bind(3, e.name).bind(4, e.cloud).bind(5, e.region).bind(6, e.cidr);
  st.bind(7, string_array_column(e.zones)).bind(8, e.state).bind(9, conditions_column(e.conditions));
  st.bind(10, e.revision).bind(11, e.ca_pem).bind(12, e.created_at).bind(13, e.updated_at);
  st.bind(14, e.applied_revision).bind(15, string_array_column(e.instance_types)).bind(16, e.daemonset_cpu_millis);
  st.bind(17, e.daemonset_memory_mib).bind(18, e.host_cores).bind(19, e.host_memory_mib);
  st.bind(20, cloud_state_column(e)).bind(21, access_column(e)).bind(22, maintenance_column(e.maintenance));
  st.bind(23, e.agent_protocol).run();
}

void SqlEnvironments::remove(const std::string& id) {
  Statement(session_, "DELETE FROM environments WHERE id = ?").bind(1, id).run();
}

}  // namespace byoc::store::sql
