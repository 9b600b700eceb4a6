// SqlLogs over the tables log_heads (one row per key: its size) and
// log_entries (key, index, bytes). The head row is the lock that makes a
// key's indexes gapless: an append updates it first (both backends hold the
// updated row until the transaction ends) and takes the index it returns.
#include "store/sql/repositories.h"

namespace byoc::store::sql {

int64_t SqlLogs::append(const std::string& key, const std::string& entry) {
  Statement head(session_,
                 "INSERT INTO log_heads (key, size) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET "
                 "size = log_heads.size + 1 RETURNING size");
  head.bind(1, key);
  if (!head.step()) throw std::logic_error("log head update returned no row");
  int64_t index = head.integer(0) - 1;
  head.run();
  Statement(session_, "INSERT INTO log_entries (key, idx, entry) VALUES (?, ?, ?)")
      .bind(1, key)
      .bind(2, index)
      .bind_blob(3, entry)
      .run();
  return index;
}

int64_t SqlLogs::size(const std::string& key) {
  Statement st(session_, "SELECT size FROM log_heads WHERE key = ?");
  st.bind(1, key);
  return st.step() ? st.integer(0) : 0;
}

std::vector<std::string> SqlLogs::read(const std::string& key, int64_t start, int64_t limit) {
  std::vector<std::string> out;
  if (start < 0 || limit <= 0) return out;
  Statement st(session_, "SELECT entry FROM log_entries WHERE key = ? AND idx >= ? ORDER BY idx LIMIT ?");
  st.bind(1, key).bind(2, start).bind(3, limit);
  while (st.step()) out.push_back(st.blob(0));
  return out;
}

}  // namespace byoc::store::sql
