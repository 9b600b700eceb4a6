// Store: the management plane's durable state behind one narrow interface.
// Every write happens inside Store::transact(), which runs the callback in one
// database transaction: all of it commits or none of it does (a kill -9 at any
// instant leaves the previous or the next state, never a mix). Reads that
// write nothing go through Store::read(), a read-only snapshot that runs
// beside the writer and other readers. Implementations: sqlite/ (the embedded
// default: one server per store file) and postgres/ (several servers on one
// database); the repositories themselves are shared (sql/).
//
// Isolation: SQLite runs one writer at a time. PostgreSQL gives each
// transaction one snapshot, and of two concurrent ones writing the same row
// the later is run again: a change must write the rows its decision rests on
// (as raising an environment's revision does), and what must exist once
// needs a unique key. So the callback may run more than once: it must have
// no effect outside the transaction but what it assigns, afresh on each run.
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
  virtual Logs& logs() = 0;
  virtual Servers& servers() = 0;
  virtual AgentSessions& agent_sessions() = 0;
  virtual AccessRequests& access_requests() = 0;
  virtual Versions& versions() = 0;
  virtual Upgrades& upgrades() = 0;
  // Hands `message` on `topic` to the subscribers of every server on this
  // store once (and only if) the transaction commits. Not in read().
  virtual void publish(const std::string& topic, const std::string& message) = 0;
};

// Called with each published (topic, message), after the commit that
// published it, once per subscriber on every server of the store: on the
// publishing server by the thread that committed, on the others by the
// store's listener. An empty topic means messages may have been lost (a
// listener was cut off and listens again): re-read what matters.
using Subscriber = std::function<void(const std::string& topic, const std::string& message)>;

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
  // A counter that moves on after every transaction that committed a change,
  // and only once that change is visible to read(). So a value derived from a
  // read() that began after generation() returned G is still current while
  // generation() is G: the basis of caches that are never stale. SQLite: this
  // process's commits (a store file has one server, which holds its lock).
  // PostgreSQL: every server's commits, as each one's notification arrives
  // (a moment after the commit; while the listener is cut off it returns a
  // new value on every call, so no cached answer is served).
  virtual uint64_t generation() const = 0;
  // Whether generation() already counts every commit that returned before
  // the call (SQLite), or only those heard of so far (PostgreSQL: use
  // current_generation() where that moment matters).
  virtual bool generation_is_current() const = 0;
  // generation() once it counts every commit, on any server, that returned
  // before this call. PostgreSQL: a round trip, shared by the calls that
  // wait together (a notification sent to this server's own listener, which
  // hears the plane's notifications in commit order, so when its own arrives
  // all earlier ones have). Blocks: not on an I/O thread.
  virtual uint64_t current_generation() = 0;
  // Adds a subscriber (see Subscriber). Call before serving.
  virtual void subscribe(Subscriber subscriber) = 0;
  // Drops every subscriber, waiting for deliveries in progress: from its
  // return on none is called (before what they use goes away).
  virtual void unsubscribe_all() = 0;
  // The schema version after migrations.
  virtual int schema_version() = 0;
};

// Opens (creating if needed) the SQLite store at `path` and applies pending
// migrations. Throws byoc::Error on failure.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path);

// Connects to the PostgreSQL database named by `uri` (a libpq URI,
// postgresql://USER@HOST:PORT/DB), applies pending migrations under an
// advisory lock (so servers starting together migrate once) and starts
// listening for other servers' commits. Throws byoc::Error on failure.
std::unique_ptr<Store> open_postgres_store(const std::string& uri);

// `--store`: a postgresql:// or postgres:// URI, or else a SQLite file path;
// empty means `data_dir`/byoc.db.
std::unique_ptr<Store> open_store(const std::string& spec, const std::filesystem::path& data_dir);
// Whether `spec` names a PostgreSQL database.
bool is_postgres_uri(const std::string& spec);
// `spec` with any password removed, for logs.
std::string redacted_store_spec(const std::string& spec);

}  // namespace byoc::store
