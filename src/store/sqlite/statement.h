// A thin RAII layer over sqlite3 statements: bind by position, step, read
// columns. Errors become byoc::Error (kInternal; kConflict for constraint
// violations). Not thread-safe; used under the store's lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace byoc::store::sqlite {

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);
void exec(sqlite3* db, const char* sql);

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
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
};

}  // namespace byoc::store::sqlite
