// SqlAgents over the table agents: the certificate serials each environment's agent may use.
#include "store/sql/repositories.h"

namespace byoc::store::sql {

std::optional<Agent> SqlAgents::by_environment(const std::string& environment_id) {
  Statement st(session_,
               "SELECT environment_id, certificate_serial, joined_at, previous_serial FROM agents "
               "WHERE environment_id = ?");
  st.bind(1, environment_id);
  if (!st.step()) return std::nullopt;
  return Agent{st.text(0), st.text(1), st.integer(2), st.text(3)};
}

void SqlAgents::put(const Agent& a) {
  Statement st(session_,
               "INSERT INTO agents (environment_id, certificate_serial, joined_at, previous_serial) "
               "VALUES (?,?,?,?) ON CONFLICT(environment_id) DO UPDATE SET "
               "certificate_serial=excluded.certificate_serial, joined_at=excluded.joined_at, "
               "previous_serial=excluded.previous_serial");
  st.bind(1, a.environment_id).bind(2, a.certificate_serial).bind(3, a.joined_at).bind(4, a.previous_serial);
  st.run();
}

}  // namespace byoc::store::sql
