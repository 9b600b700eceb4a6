#include "store/postgres/connection.h"

#include <cstring>
#include <vector>

#include "base/error.h"

namespace byoc::store::postgres {
namespace {

std::string sqlstate_of(const PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

// libpq's message on one line (it breaks lines and indents hints with tabs).
std::string trimmed(const char* message) {
  std::string m;
  for (const char* p = message ? message : ""; *p; ++p) {
    bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (space && (m.empty() || m.back() == ' ')) continue;
    m += space ? ' ' : *p;
  }
  while (!m.empty() && m.back() == ' ') m.pop_back();
  return m;
}

}  // namespace

Connection::Connection(const std::string& uri, const ConnectionSettings& settings) {
  // Later keywords win, and the URI (expanded from dbname) comes last: what
  // it says overrides these defaults.
  const std::string statement_timeout = std::to_string(settings.statement_timeout_ms);
  const std::string lock_timeout = std::to_string(settings.lock_timeout_ms);
  const std::string options = "-c statement_timeout=" + statement_timeout + " -c lock_timeout=" + lock_timeout +
                              " -c idle_in_transaction_session_timeout=60000";
  // tcp_user_timeout: a connection whose peer vanished (a failover, a cut
  // network) fails within 10 s even with data in flight, where keepalives
  // don't apply; read-write: never a standby of a multi-host URI.
  const char* keywords[] = {"connect_timeout",      "application_name", "keepalives",
                            "keepalives_idle",      "keepalives_interval", "keepalives_count",
                            "tcp_user_timeout",     "target_session_attrs", "options",
                            "dbname",               nullptr};
  const char* values[] = {"10", "byoc", "1", "10", "5", "3", "10000", "read-write", options.c_str(), uri.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (!conn_) throw Error::Unavailable("cannot connect to the store: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw Error::Unavailable("cannot connect to the store: " + message);
  }
  // The server's notices ("already exists, skipping") are not ours to print.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  backend_pid_ = PQbackendPID(conn_);
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

void Connection::check(const PGresult* result, std::string_view what) {
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return;
  std::string state = sqlstate_of(result);
  std::string message = std::string(what) + ": " +
                        trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK || state.rfind("08", 0) == 0 || state == "57P01")
    throw RetryTransaction(message, true);
  if (state == "25P02") {
    if (aborted_retryable_) throw RetryTransaction(message, false);
    throw Error::Internal(message);
  }
  aborted_retryable_ = state == "40001" || state == "40P01" || state == "23505";
  if (aborted_retryable_) throw RetryTransaction(message, false, state == "23505");
  if (state == "57014" || state == "55P03") throw Error::Unavailable(message);
  throw Error::Internal(message);
}

Result Connection::exec(const std::string& sql) {
  Result result(PQexec(conn_, sql.c_str()));
  check(result.get(), "store");
  return result;
}

Result Connection::exec_prepared(std::string_view sql, int count, const char* const* values, const int* lengths,
                                 const int* formats) {
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    Result prepared(PQprepare(conn_, name.c_str(), number_placeholders(sql).c_str(), 0, nullptr));
    check(prepared.get(), "store prepare");
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  Result result(PQexecPrepared(conn_, it->second.c_str(), count, values, lengths, formats, 0));
  check(result.get(), "store");
  return result;
}

std::string number_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$' + std::to_string(++next);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace byoc::store::postgres
