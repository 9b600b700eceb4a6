// SQLite under the shared SQL surface (sql/statement.h): a StatementCache
// keeps each distinct SQL text prepared once per connection (parsing and
// planning cost more than running most of our queries), and a SqliteSession
// hands out cursors over those statements, each reset and unbound when it is
// destroyed, so it never holds a read lock or stale bindings. Errors become
// byoc::Error (kConflict for uniqueness violations, kUnavailable when busy).
//
// Not thread-safe; used under the store's lock (writes) or by one reader.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.h"
#include "store/sql/statement.h"

namespace byoc::store::sqlite {

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);
void exec(sqlite3* db, const char* sql);
class StatementCache;
// Runs a statement with no parameters and no rows (BEGIN, COMMIT) from the cache.
void run_cached(StatementCache& cache, std::string_view sql);

class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  sqlite3* db() const { return db_; }
  // The prepared statement for `sql`, preparing it on first use.
  sqlite3_stmt* get(std::string_view sql);

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// One transaction's session on a cached connection. Published messages wait
// in outbox() until the store has committed.
class SqliteSession final : public sql::Session {
 public:
  SqliteSession(StatementCache& cache, bool read_only) : cache_(cache), read_only_(read_only) {}
  std::unique_ptr<sql::Cursor> prepare(std::string_view sql) override;
  void lock_key(std::string_view) override {}  // one writer at a time already
  void publish(std::string_view topic, std::string_view message) override {
    if (read_only_) throw Error::Internal("publish in a read-only transaction");
    sql::check_publishable(topic, message);
    outbox_.emplace_back(std::string(topic), std::string(message));
  }
  std::vector<std::pair<std::string, std::string>>& outbox() { return outbox_; }

 private:
  StatementCache& cache_;
  bool read_only_;
  std::vector<std::pair<std::string, std::string>> outbox_;
};

// A statement prepared for one use, outside any session (migrations).
class OneShot {
 public:
  OneShot(sqlite3* db, std::string_view sql);
  ~OneShot();
  OneShot(const OneShot&) = delete;
  OneShot& operator=(const OneShot&) = delete;
  OneShot& bind(int index, int64_t value);
  bool step();
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace byoc::store::sqlite
