#include "store/sqlite/statement.h"

#include "base/error.h"

namespace byoc::store::sqlite {

void throw_sqlite(sqlite3* db, int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + sqlite3_errmsg(db);
  // Only a uniqueness violation means "that already exists"; any other
  // constraint failing is a bug of ours, not the caller's.
  int extended = sqlite3_extended_errcode(db);
  if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY)
    throw Error::Conflict("conflict", message);
  if ((rc & 0xff) == SQLITE_BUSY) throw Error::Unavailable(message);
  throw Error::Internal(message);
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    throw_sqlite(db, rc, "sqlite exec");
  }
}

StatementCache::~StatementCache() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
}

sqlite3_stmt* StatementCache::get(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "sqlite prepare");
  statements_.emplace(std::string(sql), stmt);
  return stmt;
}

void run_cached(StatementCache& cache, std::string_view sql) {
  sqlite3_stmt* stmt = cache.get(sql);
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw_sqlite(cache.db(), rc, sql);
}

namespace {

// A cached statement, borrowed for one execution.
class SqliteCursor final : public sql::Cursor {
 public:
  SqliteCursor(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteCursor() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  void bind_text(int index, std::string_view value) override {
    check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  void bind_integer(int index, int64_t value) override { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind_blob(int index, std::string_view value) override {
    check(sqlite3_bind_blob(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }

  bool step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
      changes_ = sqlite3_changes64(db_);
      return false;
    }
    throw_sqlite(db_, rc, "sqlite step");
  }

  std::string text(int column) const override {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, column)) : std::string();
  }
  int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
  std::string blob(int column) const override {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, column)) : std::string();
  }
  int64_t changes() const override { return changes_; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, "sqlite bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int64_t changes_ = 0;
};

}  // namespace

std::unique_ptr<sql::Cursor> SqliteSession::prepare(std::string_view sql) {
  return std::make_unique<SqliteCursor>(cache_.db(), cache_.get(sql));
}

OneShot::OneShot(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(db, rc, "sqlite prepare");
}

OneShot::~OneShot() { sqlite3_finalize(stmt_); }

OneShot& OneShot::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "sqlite bind");
  return *this;
}

bool OneShot::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_sqlite(db_, rc, "sqlite step");
}

}  // namespace byoc::store::sqlite
