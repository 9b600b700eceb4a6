#include "store/sqlite/leases.h"

namespace byoc::store::sqlite {
using sql::Statement;

bool SqliteLeases::acquire(const std::string& key, const std::string& holder, int64_t now, int64_t ttl_seconds,
                           int64_t* held_until) {
  Statement st(session_,
               "INSERT INTO leases (key, holder, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET "
               "holder = ?2, expires_at = ?3 WHERE leases.holder = ?2 OR leases.expires_at <= ?4");
  st.bind(1, key).bind(2, holder).bind(3, now + ttl_seconds).bind(4, now).run();
  if (st.changes() == 1) return true;
  if (held_until) {
    Statement current(session_, "SELECT expires_at FROM leases WHERE key = ?");
    current.bind(1, key);
    *held_until = current.step() ? current.integer(0) : 0;
  }
  return false;
}

void SqliteLeases::release(const std::string& key, const std::string& holder) {
  Statement(session_, "DELETE FROM leases WHERE key = ? AND holder = ?").bind(1, key).bind(2, holder).run();
}

}  // namespace byoc::store::sqlite
