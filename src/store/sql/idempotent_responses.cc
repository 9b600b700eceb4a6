// SqlIdempotentResponses over the table idempotency_keys: the first answer to each (token, key).
#include "store/sql/repositories.h"

namespace byoc::store::sql {

std::optional<IdempotentResponse> SqlIdempotentResponses::find(const std::string& token_id, const std::string& key) {
  // Held to the end of the transaction: the same key sent to two servers at
  // once makes one wait for the other's answer and replay it.
  session_.lock_key("idempotency " + token_id + " " + key);
  Statement st(session_,
               "SELECT token_id, key, fingerprint, status, body, created_at FROM idempotency_keys "
               "WHERE token_id = ? AND key = ?");
  st.bind(1, token_id).bind(2, key);
  if (!st.step()) return std::nullopt;
  return IdempotentResponse{st.text(0), st.text(1),   st.text(2), static_cast<int>(st.integer(3)),
                            st.text(4), st.integer(5)};
}

void SqlIdempotentResponses::put(const IdempotentResponse& r) {
  Statement st(session_, "INSERT INTO idempotency_keys (token_id, key, fingerprint, status, body, created_at) "
                         "VALUES (?,?,?,?,?,?)");
  st.bind(1, r.token_id).bind(2, r.key).bind(3, r.fingerprint).bind(4, r.status).bind(5, r.body);
  st.bind(6, r.created_at).run();
}

}  // namespace byoc::store::sql
