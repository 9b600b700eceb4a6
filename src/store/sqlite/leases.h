// SqliteLeases over the table leases. SQLite has one writer at a time, so
// an upsert guarded by "free, expired or mine" is the whole claim.
#pragma once

#include "store/repositories.h"
#include "store/sql/statement.h"

namespace byoc::store::sqlite {

class SqliteLeases final : public Leases {
 public:
  explicit SqliteLeases(sql::Session& session) : session_(session) {}
  bool acquire(const std::string& key, const std::string& holder, int64_t now, int64_t ttl_seconds,
               int64_t* held_until) override;
  void release(const std::string& key, const std::string& holder) override;

 private:
  sql::Session& session_;
};

}  // namespace byoc::store::sqlite
