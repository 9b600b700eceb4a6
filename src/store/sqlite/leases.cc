// SqliteLeases over the table leases: one holder per key until it expires.
#include <sqlite3.h>

#include "store/sqlite/repositories.h"

namespace byoc::store::sqlite {

bool SqliteLeases::acquire(const std::string& key, const std::string& holder, int64_t now, int64_t ttl_seconds) {
  Statement st(cache_,
               "INSERT INTO leases VALUES (?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET holder = ?2, "
               "expires_at = ?3 WHERE leases.holder = ?2 OR leases.expires_at <= ?4");
  st.bind(1, key).bind(2, holder).bind(3, now + ttl_seconds).bind(4, now).run();
  return sqlite3_changes(cache_.db()) == 1;
}

void SqliteLeases::release(const std::string& key, const std::string& holder) {
  Statement(cache_, "DELETE FROM leases WHERE key = ? AND holder = ?").bind(1, key).bind(2, holder).run();
}

}  // namespace byoc::store::sqlite
