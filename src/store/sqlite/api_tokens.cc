// SqliteApiTokens over the table api_tokens: the secret's SHA-256 only, never the secret.
#include "store/sqlite/repositories.h"

namespace byoc::store::sqlite {

std::optional<ApiToken> SqliteApiTokens::by_id(const std::string& id) {
  Statement st(cache_,
               "SELECT id, secret_sha256_hex, role, organization, created_at, subject FROM api_tokens WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return ApiToken{st.text(0), st.text(1), st.text(2), st.text(3), st.integer(4), st.text(5)};
}

std::vector<ApiToken> SqliteApiTokens::list() {
  Statement st(cache_,
               "SELECT id, secret_sha256_hex, role, organization, created_at, subject FROM api_tokens ORDER BY id");
  std::vector<ApiToken> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.integer(4), st.text(5)});
  return out;
}

void SqliteApiTokens::put(const ApiToken& t) {
  Statement st(cache_,
               "INSERT OR REPLACE INTO api_tokens (id, secret_sha256_hex, role, organization, created_at, subject) "
               "VALUES (?,?,?,?,?,?)");
  st.bind(1, t.id).bind(2, t.secret_sha256_hex).bind(3, t.role).bind(4, t.organization).bind(5, t.created_at);
  st.bind(6, t.subject);
  st.run();
}

void SqliteApiTokens::remove(const std::string& id) {
  Statement(cache_, "DELETE FROM api_tokens WHERE id = ?").bind(1, id).run();
}

}  // namespace byoc::store::sqlite
