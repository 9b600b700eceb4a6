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

#include <optional>
#include <string>
#include <vector>

#include "agent/replicas/replica_sql.h"

namespace byoc::agent::replicas {

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

// Has `target` caught up with `source` (replicas of one shard)? Nothing but
// merges is queued (no part left to fetch, replace or mutate), it has read
// the replication log to its end, no table of it is read-only, and each
// replicated table has at least as many rows on it as on `source` (read
// first). False if either did not answer.
bool has_caught_up(const ReplicaAccess& source, const ReplicaAccess& target);

// Does `replica` hold rows in MergeTree tables that don't replicate (a new
// replica would get them empty)? nullopt if it did not answer.
std::optional<bool> has_unreplicated_rows(const ReplicaAccess& replica);

// Is `host` out of `replica`'s cluster `cluster` (system.clusters: it has
// reloaded a config without it)? False if it did not answer.
bool cluster_excludes(const ReplicaAccess& replica, const std::string& cluster, const std::string& host);

// Has `replica` no insert into a Distributed table left to send to the
// shards? False if it did not answer, and when it can't tell: 18.16 has no
// count of them (DistributedFilesToInsert), so there only a replica without
// Distributed tables is done.
bool distributed_sends_done(const ReplicaAccess& replica);

// For a replica that leaves its shard for good, once the others have caught
// up with it: drops every table it has (what reads others first, as
// creation_order reversed). A ReplicatedMergeTree table dropped on a replica
// deletes that replica's nodes in ZooKeeper, so the others stop keeping
// their replication log for it; the table stays on the others. True once it
// has no table left outside `system`; false if it did not answer or a drop
// failed (`error` says why; the caller tries again).
bool drop_tables(const ReplicaAccess& replica, std::string* error = nullptr);

}  // namespace byoc::agent::replicas
