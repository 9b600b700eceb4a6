// SqlApiTokens over the table api_tokens: the secret's SHA-256 only, never the secret.
#include "store/sql/repositories.h"

namespace byoc::store::sql {

std::optional<ApiToken> SqlApiTokens::by_id(const std::string& id) {
  Statement st(session_,
               "SELECT id, secret_sha256_hex, role, organization, created_at, subject FROM api_tokens WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return ApiToken{st.text(0), st.text(1), st.text(2), st.text(3), st.integer(4), st.text(5)};
}

std::vector<ApiToken> SqlApiTokens::list() {
  Statement st(session_,
               "SELECT id, secret_sha256_hex, role, organization, created_at, subject FROM api_tokens ORDER BY id");
  std::vector<ApiToken> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.integer(4), st.text(5)});
  return out;
}

void SqlApiTokens::put(const ApiToken& t) {
  Statement st(session_,
               "INSERT INTO api_tokens (id, secret_sha256_hex, role, organization, created_at, subject) "
               "VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET secret_sha256_hex=excluded.secret_sha256_hex, "
               "role=excluded.role, organization=excluded.organization, created_at=excluded.created_at, "
               "subject=excluded.subject");
  st.bind(1, t.id).bind(2, t.secret_sha256_hex).bind(3, t.role).bind(4, t.organization).bind(5, t.created_at);
  st.bind(6, t.subject);
  st.run();
}

void SqlApiTokens::remove(const std::string& id) {
  Statement(session_, "DELETE FROM api_tokens WHERE id = ?").bind(1, id).run();
}

}  // namespace byoc::store::sql
