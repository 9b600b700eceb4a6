// A replica added to a running service starts with no tables: before it
// takes traffic, it gets the databases and tables another replica of its
// shard has, each created from that replica's own definition (SHOW CREATE),
// so a ReplicatedMergeTree table joins its ZooKeeper path as a new replica
// (the {shard} and {replica} macros resolve on the new one) and fetches its
// parts. Tables whose engine keeps data locally (MergeTree, Log…) are made
// empty: nothing replicates them. Order: stored tables, then Distributed and
// Merge, then views, then materialized views (they read from the rest).
// Idempotent: what the target has already is skipped, so a copy cut short
// by a crash completes on the next call. Any thread.
#pragma once

#include <string>
#include <vector>

#include "agent/runtimes/local/replica_sql.h"

namespace byoc::agent::local {

struct TableRef {
  std::string database;
  std::string name;
  std::string engine;
  bool operator==(const TableRef&) const = default;
};

// The order tables are created in (pure).
std::vector<TableRef> creation_order(std::vector<TableRef> tables);

// `name` quoted for ClickHouse SQL (backquotes, backslash escapes).
std::string quote_identifier(const std::string& name);

// True once `target` has every database and table `source` has (system's
// left out); false if either did not answer or a statement failed (the
// caller tries again later). A statement that fails (a view over one not
// made yet) is tried again after the others, pass by pass, while any
// succeeds; the last failure goes to `error`.
bool copy_schema(const ReplicaAccess& source, const ReplicaAccess& target, std::string* error = nullptr);

// Has `target` caught up with `source` (replicas of one shard)? Its
// replication queue is empty, it has read the replication log to its end,
// no table of it is read-only, and each replicated table has at least as
// many rows on it as on `source` (read first). False if either did not
// answer.
bool has_caught_up(const ReplicaAccess& source, const ReplicaAccess& target);

}  // namespace byoc::agent::local
