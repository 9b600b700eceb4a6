// A thin RAII layer over sqlite3 statements: bind by position, step, read
// columns. Errors become byoc::Error (kInternal; kConflict for constraint
// violations). StatementCache keeps each distinct SQL text prepared once per
// connection (parsing and planning cost more than running most of our
// queries); a Statement borrowed from it is reset and unbound when it goes
// out of scope, so it never holds a read lock or stale bindings.
//
// Not thread-safe; used under the store's lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace byoc::store::sqlite {

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);
void exec(sqlite3* db, const char* sql);

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

class Statement {
 public:
  // Prepares `sql` for this one use.
  Statement(sqlite3* db, std::string_view sql);
  // Borrows the cached statement for `sql`.
  Statement(StatementCache& cache, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);

  // Advances to the next row; false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  std::string text(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool owned_ = true;
};

}  // namespace byoc::store::sqlite
