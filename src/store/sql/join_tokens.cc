// SqlJoinTokens over the table join_tokens: single-use, the secret's SHA-256 only.
#include "store/sql/repositories.h"

namespace byoc::store::sql {

std::optional<JoinToken> SqlJoinTokens::by_id(const std::string& id) {
  Statement st(session_,
               "SELECT id, environment_id, secret_sha256_hex, expires_at, used_at FROM join_tokens WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return JoinToken{st.text(0), st.text(1), st.text(2), st.integer(3), st.integer(4)};
}

void SqlJoinTokens::put(const JoinToken& t) {
  Statement st(session_, "INSERT INTO join_tokens (id, environment_id, secret_sha256_hex, expires_at, used_at) "
                         "VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET environment_id=excluded.environment_id, "
                         "secret_sha256_hex=excluded.secret_sha256_hex, expires_at=excluded.expires_at, "
                         "used_at=excluded.used_at");
  st.bind(1, t.id).bind(2, t.environment_id).bind(3, t.secret_sha256_hex).bind(4, t.expires_at);
  st.bind(5, t.used_at).run();
}

}  // namespace byoc::store::sql
