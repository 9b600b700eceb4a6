// PostgreSQL under the shared SQL surface (sql/statement.h): one open
// transaction on one Connection. It counts the rows written (so the store
// knows whether the transaction changed anything) and sends what is
// published as notifications on the store's channel, which PostgreSQL
// delivers to every listening server at COMMIT, and never on ROLLBACK.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "store/postgres/connection.h"
#include "store/sql/statement.h"

namespace byoc::store::postgres {

// The channel every server of a plane listens on. A notification's payload
// is "TOPIC MESSAGE"; an empty one only says that something changed.
inline constexpr const char* kChannel = "byoc";

class PgSession final : public sql::Session {
 public:
  PgSession(Connection& connection, bool read_only) : connection_(connection), read_only_(read_only) {}
  std::unique_ptr<sql::Cursor> prepare(std::string_view sql) override;
  void lock_key(std::string_view key) override;
  void publish(std::string_view topic, std::string_view message) override;

  // Rows inserted, updated or deleted so far.
  int64_t written() const { return written_; }
  void add_written(int64_t rows) { written_ += rows; }
  const std::vector<std::pair<std::string, std::string>>& outbox() const { return outbox_; }
  Connection& connection() { return connection_; }

 private:
  Connection& connection_;
  bool read_only_;
  int64_t written_ = 0;
  std::vector<std::pair<std::string, std::string>> outbox_;
};

}  // namespace byoc::store::postgres
