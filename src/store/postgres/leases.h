// PgLeases over the table leases, for several servers at once: a claim
// locks the key's row with FOR UPDATE SKIP LOCKED, so a server never waits
// for another's claim in progress (that key simply counts as held), and
// takes the row only if it is free, expired or its own. The first claim of
// a key inserts its row under pg_try_advisory_xact_lock, for the same reason.
#pragma once

#include "store/postgres/session.h"
#include "store/repositories.h"

namespace byoc::store::postgres {

class PgLeases final : public Leases {
 public:
  explicit PgLeases(PgSession& session) : session_(session) {}
  bool acquire(const std::string& key, const std::string& holder, int64_t now, int64_t ttl_seconds,
               int64_t* held_until) override;
  void release(const std::string& key, const std::string& holder) override;

 private:
  PgSession& session_;
};

}  // namespace byoc::store::postgres
