// SqlOperations over the table operations: steps, result and error are JSON columns; running
// ones are found through a partial index.
#include <nlohmann/json.hpp>

#include "store/sql/repositories.h"

namespace byoc::store::sql {
namespace {
using nlohmann::json;

json steps_to_json(const std::vector<model::OperationStep>& steps) {
  json out = json::array();
  for (const auto& s : steps) out.push_back({{"name", s.name}, {"state", s.state}});
  return out;
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

}  // namespace

std::optional<model::Operation> SqlOperations::by_id(const std::string& id) {
  Statement st(session_, std::string("SELECT ") + kOperationColumns + " FROM operations WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_operation(st);
}

std::vector<model::Operation> SqlOperations::running(const std::string& environment_id) {
  // Two texts, each served by a partial index (as in SqlEnvironments::list).
  Statement st(session_, std::string("SELECT ") + kOperationColumns + " FROM operations WHERE status = 'running'" +
                           (environment_id.empty() ? "" : " AND environment_id = ?") + " ORDER BY created_at, id");
  if (!environment_id.empty()) st.bind(1, environment_id);
  std::vector<model::Operation> out;
  while (st.step()) out.push_back(read_operation(st));
  return out;
}

void SqlOperations::put(const model::Operation& o) {
  Statement st(session_, std::string("INSERT INTO operations (") + kOperationColumns +
                           ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                           "status=excluded.status, steps=excluded.steps, result=excluded.result, "
                           "error=excluded.error, updated_at=excluded.updated_at");
  st.bind(1, o.id).bind(2, o.kind).bind(3, o.environment_id).bind(4, o.environment_name);
  st.bind(5, o.service_name).bind(6, o.status).bind(7, steps_to_json(o.steps).dump());
  st.bind(8, o.result.dump()).bind(9, o.error.dump()).bind(10, o.created_at).bind(11, o.updated_at);
  st.bind(12, o.organization).run();
}

}  // namespace byoc::store::sql
