#include "store/postgres/session.h"

#include <charconv>
#include <cstring>

#include "base/error.h"

namespace byoc::store::postgres {
namespace {

bool is_write(const PGresult* result) {
  const char* status = PQcmdStatus(const_cast<PGresult*>(result));
  return std::strncmp(status, "INSERT", 6) == 0 || std::strncmp(status, "UPDATE", 6) == 0 ||
         std::strncmp(status, "DELETE", 6) == 0;
}

// Parameters are kept as text (or raw bytes for binary ones) until the
// statement runs; results are read as text.
class PgCursor final : public sql::Cursor {
 public:
  PgCursor(PgSession& session, std::string_view sql) : session_(session), sql_(sql) {}

  void bind_text(int index, std::string_view value) override { set(index, std::string(value), 0); }
  void bind_integer(int index, int64_t value) override { set(index, std::to_string(value), 0); }
  void bind_blob(int index, std::string_view value) override { set(index, std::string(value), 1); }

  bool step() override {
    if (!result_) run();
    return ++row_ < PQntuples(result_.get());
  }

  std::string text(int column) const override {
    return std::string(PQgetvalue(result_.get(), row_, column), PQgetlength(result_.get(), row_, column));
  }
  int64_t integer(int column) const override {
    const char* p = PQgetvalue(result_.get(), row_, column);
    int64_t value = 0;
    std::from_chars(p, p + PQgetlength(result_.get(), row_, column), value);
    return value;
  }
  std::string blob(int column) const override {
    size_t length = 0;
    unsigned char* bytes =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row_, column)), &length);
    if (!bytes) throw Error::Internal("store: unreadable bytea value");
    std::string out(reinterpret_cast<const char*>(bytes), length);
    PQfreemem(bytes);
    return out;
  }
  int64_t changes() const override {
    const char* tuples = PQcmdTuples(result_.get());
    int64_t n = 0;
    std::from_chars(tuples, tuples + std::strlen(tuples), n);
    return n;
  }

 private:
  void set(int index, std::string value, int format) {
    if (index < 1) throw Error::Internal("store: parameter index " + std::to_string(index));
    size_t i = static_cast<size_t>(index - 1);
    if (values_.size() <= i) {
      values_.resize(i + 1);
      formats_.resize(i + 1, 0);
    }
    values_[i] = std::move(value);
    formats_[i] = format;
  }

  void run() {
    std::vector<const char*> pointers;
    std::vector<int> lengths;
    for (const auto& v : values_) {
      pointers.push_back(v.c_str());
      lengths.push_back(static_cast<int>(v.size()));
    }
    result_ = session_.connection().exec_prepared(sql_, static_cast<int>(values_.size()), pointers.data(),
                                                  lengths.data(), formats_.data());
    if (is_write(result_.get())) session_.add_written(changes());
  }

  PgSession& session_;
  std::string sql_;
  std::vector<std::string> values_;
  std::vector<int> formats_;
  Result result_;
  int row_ = -1;
};

}  // namespace

std::unique_ptr<sql::Cursor> PgSession::prepare(std::string_view sql) {
  return std::make_unique<PgCursor>(*this, sql);
}

void PgSession::lock_key(std::string_view key) {
  sql::Statement try_lock(*this, "SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0))");
  try_lock.bind(1, key);
  if (try_lock.step() && try_lock.text(0) == "t") return;
  // Another transaction holds the key. This one's snapshot was taken before
  // that one commits, so it could never see what it writes: wait for it to
  // end, then start over with a snapshot that includes it.
  sql::Statement(*this, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))").bind(1, key).run();
  throw RetryTransaction("waited for another transaction holding the same key", false);
}

void PgSession::publish(std::string_view topic, std::string_view message) {
  if (read_only_) throw Error::Internal("publish in a read-only transaction");
  sql::check_publishable(topic, message);
  std::string payload = std::string(topic) + " " + std::string(message);
  sql::Statement(*this, "SELECT pg_notify(?, ?)").bind(1, kChannel).bind(2, payload).run();
  outbox_.emplace_back(std::string(topic), std::string(message));
}

}  // namespace byoc::store::postgres
