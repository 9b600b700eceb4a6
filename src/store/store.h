// Store: the management plane's durable state behind one narrow interface.
// Every write happens inside Store::transact(), which runs the callback in one
// database transaction: all of it commits or none of it does (a kill -9 at any
// instant leaves the previous or the next state, never a mix). Reads that
// write nothing go through Store::read(), a read-only snapshot that runs
// beside the writer and other readers. Implementations: sqlite/ (embedded
// default); a PostgreSQL backend implements Store, Transaction and the
// repositories of repositories.h without touching callers.
//
// Threading: transact() and read() may be called from any thread;
// implementations serialise writers, not readers. Callers keep transactions
// short and do no network or process work inside them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "store/repositories.h"

namespace byoc::store {

// One transaction's view of the store: a repository per aggregate, each
// call inside this transaction. It keeps no data methods of its own.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual Environments& environments() = 0;
  virtual Services& services() = 0;
  virtual Operations& operations() = 0;
  virtual ApiTokens& api_tokens() = 0;
  virtual Organizations& organizations() = 0;
  virtual IdempotentResponses& idempotent_responses() = 0;
  virtual JoinTokens& join_tokens() = 0;
  virtual Agents& agents() = 0;
  virtual UsageIntervals& usage() = 0;
  virtual Leases& leases() = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // Runs `fn` in one transaction; commits if it returns, rolls back and
  // rethrows if it throws.
  virtual void transact(const std::function<void(Transaction&)>& fn) = 0;
  // Runs `fn` in a read-only transaction: one consistent snapshot holding
  // every transaction that returned before read() was called. Writes through
  // the Transaction throw. Like transact(), returns only once what `fn` may
  // have seen is durable.
  virtual void read(const std::function<void(Transaction&)>& fn) = 0;
  // A counter that moves on after every transaction that committed a change
  // (in this process: a store file has one server, which holds its lock), and
  // only once that change is visible to read(). So a value derived from a
  // read() that began after generation() returned G is still current while
  // generation() is G: the basis of caches that are never stale.
  virtual uint64_t generation() const = 0;
  // The schema version after migrations.
  virtual int schema_version() = 0;
};

// Opens (creating if needed) the SQLite store at `path` and applies pending
// migrations. Throws byoc::Error on failure.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path);

}  // namespace byoc::store
