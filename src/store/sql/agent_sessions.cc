// SqlAgentSessions over the table agent_sessions: which server holds each
// environment's agent; rows go with their environment (ON DELETE CASCADE).
#include "store/sql/repositories.h"

namespace byoc::store::sql {

std::optional<AgentSession> SqlAgentSessions::by_environment(const std::string& environment_id) {
  Statement st(session_, "SELECT environment_id, server_id, since FROM agent_sessions WHERE environment_id = ?");
  st.bind(1, environment_id);
  if (!st.step()) return std::nullopt;
  return AgentSession{st.text(0), st.text(1), st.integer(2)};
}

void SqlAgentSessions::put(const AgentSession& s) {
  Statement(session_,
            "INSERT INTO agent_sessions (environment_id, server_id, since) VALUES (?,?,?) "
            "ON CONFLICT(environment_id) DO UPDATE SET server_id=excluded.server_id, since=excluded.since")
      .bind(1, s.environment_id)
      .bind(2, s.server_id)
      .bind(3, s.since)
      .run();
}

bool SqlAgentSessions::remove(const std::string& environment_id, const std::string& server_id) {
  Statement st(session_, "DELETE FROM agent_sessions WHERE environment_id = ? AND server_id = ?");
  st.bind(1, environment_id).bind(2, server_id).run();
  return st.changes() == 1;
}

std::vector<AgentSession> SqlAgentSessions::held_elsewhere(const std::string& server_id) {
  Statement st(session_,
               "SELECT environment_id, server_id, since FROM agent_sessions WHERE server_id <> ? "
               "ORDER BY environment_id");
  st.bind(1, server_id);
  std::vector<AgentSession> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.integer(2)});
  return out;
}

}  // namespace byoc::store::sql
