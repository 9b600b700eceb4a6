// One libpq connection to the store's PostgreSQL database, with the error
// handling every caller shares.
//
// Errors: a serialization failure or deadlock (40001, 40P01), a uniqueness
// violation (23505: under REPEATABLE READ, what a concurrent transaction's
// insert of the same key looks like), a statement in a transaction already
// aborted by one (25P02), and a connection that broke throw RetryTransaction,
// which the store turns into a new attempt (never seen by callers; a
// uniqueness violation that stays is byoc::Error kConflict); a statement or lock timeout throws kUnavailable;
// anything else kInternal. Messages are the server's, which never hold the
// connection's password.
//
// Every connection runs with bounded waits (statement, lock and idle-in-
// transaction timeouts, TCP keepalives) and is not thread-safe: one thread
// at a time (the store's pool hands it out).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace byoc::store::postgres {

struct RetryTransaction : std::runtime_error {
  RetryTransaction(const std::string& what, bool connection_lost, bool unique_violation = false)
      : std::runtime_error(what), connection_lost(connection_lost), unique_violation(unique_violation) {}
  bool connection_lost;  // the transaction's outcome is unknown if COMMIT was sent
  // A key another transaction inserted first: the next attempt sees its row
  // (and answers as the repositories' own checks say), unless it keeps failing.
  bool unique_violation;
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnectionSettings {
  int statement_timeout_ms = 30'000;  // 0: none
  int lock_timeout_ms = 10'000;
};

class Connection {
 public:
  // Connects (at most 10 s) or throws byoc::Error kUnavailable.
  Connection(const std::string& uri, const ConnectionSettings& settings = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* raw() const { return conn_; }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  // The server process serving this connection, as it was when connected.
  int backend_pid() const { return backend_pid_; }

  // Runs `sql` (one or more statements, no parameters); returns the last
  // statement's result, or throws as above.
  Result exec(const std::string& sql);
  // Runs `sql` as a statement prepared once on this connection, with the
  // given parameters (formats: 0 text, 1 binary).
  Result exec_prepared(std::string_view sql, int count, const char* const* values, const int* lengths,
                       const int* formats);
  // Throws for a result that is not a success (or for a null one).
  void check(const PGresult* result, std::string_view what);

 private:
  PGconn* conn_ = nullptr;
  int backend_pid_ = 0;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  // Whether the first failure of the current transaction was worth a new
  // attempt: the statements after it only say "aborted" (25P02).
  bool aborted_retryable_ = false;
};

// `sql` with each `?` outside quotes numbered $1, $2, … (the shared SQL's
// placeholders, sql/statement.h); `$n` already there is kept.
std::string number_placeholders(std::string_view sql);

}  // namespace byoc::store::postgres
