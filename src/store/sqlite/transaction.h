// store::Transaction over one SQLite connection: its repositories
// (repositories.h), typed reads and writes of the schema in migrations.cc.
// The caller owns the SQL transaction (BEGIN/COMMIT) and the connection; a
// Transaction only runs statements from the connection's StatementCache. On
// a connection opened query-only, every write throws byoc::Error.
#pragma once

#include <sqlite3.h>

#include <functional>

#include "store/sqlite/statement.h"
#include "store/store.h"

namespace byoc::store::sqlite {

// Calls `fn` with a Transaction whose statements run on `cache`'s connection.
void with_transaction(StatementCache& cache, const std::function<void(Transaction&)>& fn);

}  // namespace byoc::store::sqlite
