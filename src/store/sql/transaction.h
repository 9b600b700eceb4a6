// store::Transaction over one Session (statement.h): the shared repositories
// (repositories.h) plus the backend's own Leases. The caller owns the SQL
// transaction (BEGIN/COMMIT) and the connection.
#pragma once

#include <functional>

#include "store/sql/statement.h"
#include "store/store.h"

namespace byoc::store::sql {

// Calls `fn` with a Transaction whose statements run in `session`; leases go
// to `leases`, the backend's implementation on the same session.
void with_transaction(Session& session, Leases& leases, const std::function<void(Transaction&)>& fn);

}  // namespace byoc::store::sql
