// Store: the management plane's durable state behind one narrow interface.
// Every write happens inside Store::transact(), which runs the callback in one
// database transaction: all of it commits or none of it does (a kill -9 at any
// instant leaves the previous or the next state, never a mix). Reads that
// write nothing go through Store::read(), a read-only snapshot that runs
// beside the writer and other readers. Implementations: sqlite/ (embedded
// default); a PostgreSQL backend implements the same two classes without
// touching callers.
//
// Threading: transact() and read() may be called from any thread;
// implementations serialise writers, not readers. Callers keep transactions
// short and do no network or process work inside them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"
#include "model/protocol.h"

namespace byoc::store {

struct ApiToken {
  std::string id;
  std::string secret_sha256_hex;  // the secret itself is never stored
  std::string role;               // admin | operator | approver | customer
  std::string organization;
  int64_t created_at = 0;
  std::string subject;  // who holds it (e.g. alice@vendor.example); not a secret
};

struct JoinToken {
  std::string id;
  std::string environment_id;
  std::string secret_sha256_hex;
  int64_t expires_at = 0;
  int64_t used_at = 0;  // 0 while unused
};

struct Agent {
  std::string environment_id;
  std::string certificate_serial;  // the newest certificate issued for this environment
  int64_t joined_at = 0;
  // The certificate a renewal replaced, still accepted until the new one is
  // first used (an agent that crashed before saving the new one isn't locked
  // out); empty otherwise. A join clears it.
  std::string previous_serial;
};

struct Organization {
  std::string name;
  int64_t created_at = 0;
};

// The first answer to a POST carrying an Idempotency-Key, kept so a repeat
// gets the same answer (secrets redacted) instead of a second resource.
struct IdempotentResponse {
  std::string token_id;     // keys are per caller
  std::string key;
  std::string fingerprint;  // method, path and body hash of the first request
  int status = 0;
  std::string body;
  int64_t created_at = 0;
};

struct UsageTotals {
  int64_t intervals = 0;
  int64_t cpu_millis_seconds = 0;
  int64_t memory_mib_seconds = 0;
};

class Transaction {
 public:
  virtual ~Transaction() = default;

  virtual std::optional<model::Environment> environment_by_id(const std::string& id) = 0;
  virtual std::optional<model::Environment> environment_by_name(const std::string& organization,
                                                                const std::string& name) = 0;
  // All environments of an organization, or of every organization when empty.
  virtual std::vector<model::Environment> environments(const std::string& organization) = 0;
  virtual void put_environment(const model::Environment& e) = 0;  // insert or replace by id
  virtual void delete_environment(const std::string& id) = 0;

  virtual std::optional<model::Service> service_by_id(const std::string& id) = 0;
  virtual std::optional<model::Service> service_by_name(const std::string& environment_id,
                                                        const std::string& name) = 0;
  // Services of one environment, or of all when empty.
  virtual std::vector<model::Service> services(const std::string& environment_id) = 0;
  virtual void put_service(const model::Service& s) = 0;
  virtual void delete_service(const std::string& id) = 0;

  virtual std::optional<model::Operation> operation(const std::string& id) = 0;
  // Running operations of one environment, or of all when empty; oldest first.
  virtual std::vector<model::Operation> running_operations(const std::string& environment_id) = 0;
  virtual void put_operation(const model::Operation& o) = 0;

  virtual std::optional<ApiToken> api_token(const std::string& id) = 0;
  virtual std::vector<ApiToken> api_tokens() = 0;
  virtual void put_api_token(const ApiToken& t) = 0;
  virtual void delete_api_token(const std::string& id) = 0;

  virtual std::optional<Organization> organization(const std::string& name) = 0;
  virtual std::vector<Organization> organizations() = 0;
  virtual void put_organization(const Organization& o) = 0;

  virtual std::optional<IdempotentResponse> idempotent_response(const std::string& token_id,
                                                                const std::string& key) = 0;
  virtual void put_idempotent_response(const IdempotentResponse& r) = 0;

  virtual std::optional<JoinToken> join_token(const std::string& id) = 0;
  virtual void put_join_token(const JoinToken& t) = 0;

  virtual std::optional<Agent> agent(const std::string& environment_id) = 0;
  virtual void put_agent(const Agent& a) = 0;

  // Records an interval once: returns false (and changes nothing) if this
  // environment already has one with the same seq.
  virtual bool insert_usage(const std::string& environment_id, const model::UsageInterval& u) = 0;
  virtual int64_t max_usage_seq(const std::string& environment_id) = 0;
  virtual UsageTotals usage_totals(const std::string& environment_id) = 0;

  // A time-bounded claim on `key` (e.g. "environment/env-…") so that one
  // reconciler at a time works on a resource, also across server processes.
  // Succeeds if the key is free, expired, or already held by `holder`.
  virtual bool acquire_lease(const std::string& key, const std::string& holder, int64_t now,
                             int64_t ttl_seconds) = 0;
  virtual void release_lease(const std::string& key, const std::string& holder) = 0;
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
