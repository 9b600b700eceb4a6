// The schema as an ordered list of migrations, written once and read in
// either dialect. Migration N (1-based) moves the schema from version N-1 to
// N; a migration, once released, never changes — new needs get a new entry
// at the end — so every backend has the same tables at the same version.
#pragma once

#include <string>
#include <vector>

namespace byoc::store::sql {

enum class Dialect { kSqlite, kPostgres };

struct Migration {
  const char* sqlite;  // the text, in SQLite's words
  std::string text(Dialect dialect) const;
};

const std::vector<Migration>& migrations();

// A SQLite migration in PostgreSQL's words: INTEGER is BIGINT, BLOB is
// BYTEA, strftime('%s','now') is extract(epoch from now())::bigint —
// wherever they stand (a migration uses these words for nothing else).
std::string postgres_text(const std::string& sqlite);

}  // namespace byoc::store::sql
