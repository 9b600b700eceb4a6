// SqliteJoinTokens over the table join_tokens: single-use, the secret's SHA-256 only.
#include "store/sqlite/repositories.h"

namespace byoc::store::sqlite {

std::optional<JoinToken> SqliteJoinTokens::by_id(const std::string& id) {
  Statement st(cache_,
               "SELECT id, environment_id, secret_sha256_hex, expires_at, used_at FROM join_tokens WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return JoinToken{st.text(0), st.text(1), st.text(2), st.integer(3), st.integer(4)};
}

void SqliteJoinTokens::put(const JoinToken& t) {
  Statement st(cache_, "INSERT OR REPLACE INTO join_tokens VALUES (?,?,?,?,?)");
  st.bind(1, t.id).bind(2, t.environment_id).bind(3, t.secret_sha256_hex).bind(4, t.expires_at);
  st.bind(5, t.used_at).run();
}

}  // namespace byoc::store::sqlite
