// The schema as an ordered list of migrations, each in both dialects.
// Migration N (1-based) moves the schema from version N-1 to N; a migration,
// once released, never changes — new needs get a new entry at the end, with
// both texts, so every backend has the same tables at the same version.
#pragma once

#include <vector>

namespace byoc::store::sql {

enum class Dialect { kSqlite, kPostgres };

struct Migration {
  const char* sqlite;
  const char* postgres;
  const char* text(Dialect dialect) const;
};

const std::vector<Migration>& migrations();

}  // namespace byoc::store::sql
