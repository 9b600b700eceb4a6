// SqlAccessRequests over the table access_requests: the columns filtered on
// (environment, requester, state, creation time) and the whole record as
// JSON (model::access_request_document).
#include <nlohmann/json.hpp>

#include "store/sql/repositories.h"

namespace byoc::store::sql {

void SqlAccessRequests::put(const model::AccessRequest& r) {
  Statement(session_,
            "INSERT INTO access_requests (id, environment_id, requester, state, created_at, record) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET state=excluded.state, record=excluded.record")
      .bind(1, r.id)
      .bind(2, r.environment_id)
      .bind(3, r.requester)
      .bind(4, r.state)
      .bind(5, r.created_at)
      .bind(6, model::access_request_document(r).dump())
      .run();
}

std::optional<model::AccessRequest> SqlAccessRequests::by_id(const std::string& id) {
  Statement st(session_, "SELECT record FROM access_requests WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return model::access_request_from_document(nlohmann::json::parse(st.text(0)));
}

std::vector<model::AccessRequest> SqlAccessRequests::list(const std::string& environment_id,
                                                          const AccessRequestFilter& f) {
  // Each filter given adds its own condition (no "? = '' OR …", which no index serves).
  std::string sql = "SELECT record FROM access_requests WHERE environment_id = ?";
  if (!f.state.empty()) sql += " AND state = ?";
  if (!f.requester.empty()) sql += " AND requester = ?";
  if (f.created_from) sql += " AND created_at >= ?";
  if (f.created_until) sql += " AND created_at < ?";
  sql += " ORDER BY created_at, id LIMIT ?";
  Statement st(session_, sql);
  int i = 1;
  st.bind(i++, environment_id);
  if (!f.state.empty()) st.bind(i++, f.state);
  if (!f.requester.empty()) st.bind(i++, f.requester);
  if (f.created_from) st.bind(i++, f.created_from);
  if (f.created_until) st.bind(i++, f.created_until);
  st.bind(i, f.limit);
  std::vector<model::AccessRequest> out;
  while (st.step()) out.push_back(model::access_request_from_document(nlohmann::json::parse(st.text(0))));
  return out;
}

std::vector<std::string> SqlAccessRequests::open() {
  Statement st(session_, "SELECT id FROM access_requests WHERE state IN ('PENDING', 'APPROVED', 'ACTIVE') ORDER BY id");
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

}  // namespace byoc::store::sql
