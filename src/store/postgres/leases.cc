#include "store/postgres/leases.h"

namespace byoc::store::postgres {
using sql::Statement;

bool PgLeases::acquire(const std::string& key, const std::string& holder, int64_t now, int64_t ttl_seconds,
                       int64_t* held_until) {
  if (held_until) *held_until = 0;
  Statement row(session_, "SELECT holder, expires_at FROM leases WHERE key = ? FOR UPDATE SKIP LOCKED");
  row.bind(1, key);
  if (row.step()) {
    if (row.text(0) != holder && row.integer(1) > now) {
      if (held_until) *held_until = row.integer(1);
      return false;
    }
    Statement(session_, "UPDATE leases SET holder = ?, expires_at = ? WHERE key = ?")
        .bind(1, holder)
        .bind(2, now + ttl_seconds)
        .bind(3, key)
        .run();
    return true;
  }
  // No row we could lock: one another server is claiming right now (held),
  // or none yet. Creating the row is claimed under a try-lock on the key, so
  // two servers never wait on each other's insert either.
  Statement exists(session_, "SELECT 1 FROM leases WHERE key = ?");
  exists.bind(1, key);
  if (exists.step()) return false;
  Statement try_lock(session_, "SELECT pg_try_advisory_xact_lock(hashtextextended(?, 1))");
  try_lock.bind(1, key);
  if (!try_lock.step() || try_lock.text(0) != "t") return false;
  Statement insert(session_,
                   "INSERT INTO leases (key, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING "
                   "RETURNING key");
  insert.bind(1, key).bind(2, holder).bind(3, now + ttl_seconds);
  return insert.step();
}

void PgLeases::release(const std::string& key, const std::string& holder) {
  Statement(session_, "DELETE FROM leases WHERE key = ? AND holder = ?").bind(1, key).bind(2, holder).run();
}

}  // namespace byoc::store::postgres
