// The one SQL surface the repositories are written against, so each
// repository exists once for every backend (sqlite/, postgres/).
//
// A Session is one open transaction on one connection; the backend owns
// BEGIN/COMMIT. Shared statements use `?` placeholders, bound in order (the
// PostgreSQL session numbers them $1, $2, …), and SQL both dialects read
// alike (INSERT … ON CONFLICT … DO UPDATE SET x = excluded.x). What differs
// (leases, the schema's DDL) lives in each backend's folder or names its
// dialect (migrations.h).
//
// Errors: a uniqueness violation throws byoc::Error kConflict; a write in a
// read-only session, like any other failure, throws byoc::Error kInternal;
// backends may throw their own retry signal (postgres/: a serialization
// failure), which transact() handles and callers never see. On PostgreSQL a
// failed statement ends the transaction (every later one fails too), so a
// callback never catches a store error to go on: it lets it end the
// transaction.
//
// Not thread-safe: a session belongs to the thread running its transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace byoc::store::sql {

// One execution of one statement: parameters by position (1-based), then
// rows one at a time. Columns are read by position (0-based).
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void bind_text(int index, std::string_view value) = 0;
  virtual void bind_integer(int index, int64_t value) = 0;
  virtual void bind_blob(int index, std::string_view value) = 0;
  // Runs the statement on the first call; true while a row is current.
  virtual bool step() = 0;
  virtual std::string text(int column) const = 0;
  virtual int64_t integer(int column) const = 0;
  virtual std::string blob(int column) const = 0;
  // Rows an INSERT, UPDATE or DELETE changed (after step()).
  virtual int64_t changes() const = 0;
};

class Session {
 public:
  virtual ~Session() = default;
  virtual std::unique_ptr<Cursor> prepare(std::string_view sql) = 0;
  // Holds `key` until the transaction ends: another transaction asking for
  // the same key waits for this one to commit or roll back. (SQLite has one
  // writer at a time: there it costs nothing.)
  virtual void lock_key(std::string_view key) = 0;
  // Hands `message` on `topic` to every subscriber of the store (store.h),
  // once the transaction commits.
  virtual void publish(std::string_view topic, std::string_view message) = 0;
};

// What publish() accepts on every backend: a topic of one word (no space)
// and a message of at most kMaxPublished bytes (PostgreSQL's notification
// payload limit, less room for the topic). Throws byoc::Error kInternal.
inline constexpr size_t kMaxPublished = 7000;
void check_publishable(std::string_view topic, std::string_view message);

// A Cursor with chainable binding, as the repositories use it.
class Statement {
 public:
  Statement(Session& session, std::string_view sql) : cursor_(session.prepare(sql)) {}

  Statement& bind(int index, std::string_view value) {
    cursor_->bind_text(index, value);
    return *this;
  }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, int64_t value) {
    cursor_->bind_integer(index, value);
    return *this;
  }
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind_blob(int index, std::string_view value) {
    cursor_->bind_blob(index, value);
    return *this;
  }

  bool step() { return cursor_->step(); }
  // Runs a statement that returns no rows (or whose rows don't matter).
  void run() {
    while (cursor_->step()) {
    }
  }
  std::string text(int column) const { return cursor_->text(column); }
  int64_t integer(int column) const { return cursor_->integer(column); }
  std::string blob(int column) const { return cursor_->blob(column); }
  int64_t changes() const { return cursor_->changes(); }

 private:
  std::unique_ptr<Cursor> cursor_;
};

}  // namespace byoc::store::sql
