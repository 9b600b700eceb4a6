// SqlServers over the table servers: one row per `byoc server` of the plane.
#include "store/sql/repositories.h"

namespace byoc::store::sql {

void SqlServers::put(const ServerRecord& s) {
  Statement(session_,
            "INSERT INTO servers (id, url, started_at, heartbeat_at) VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "url=excluded.url, started_at=excluded.started_at, heartbeat_at=excluded.heartbeat_at")
      .bind(1, s.id)
      .bind(2, s.url)
      .bind(3, s.started_at)
      .bind(4, s.heartbeat_at)
      .run();
}

std::vector<ServerRecord> SqlServers::list() {
  Statement st(session_, "SELECT id, url, started_at, heartbeat_at FROM servers ORDER BY id");
  std::vector<ServerRecord> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.integer(2), st.integer(3)});
  return out;
}

void SqlServers::remove(const std::string& id) {
  Statement(session_, "DELETE FROM servers WHERE id = ?").bind(1, id).run();
}

}  // namespace byoc::store::sql
