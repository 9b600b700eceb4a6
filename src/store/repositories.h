// The store's records and one small repository per aggregate. A Transaction
// (store.h) hands out each repository; every call runs inside that
// transaction. A backend implements each repository in a file of its own
// (sqlite/: environments.cc, services.cc, …), so a second backend is small
// pieces, each tested by the same store tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"
#include "model/upgrades.h"
#include "model/protocol.h"

namespace byoc::store {

struct ApiToken {
  std::string id;
  std::string secret_sha256_hex;  // the secret itself is never stored
  std::string role;               // admin | operator | approver | customer
  std::string organization;
  int64_t created_at = 0;
  std::string subject;  // who holds it (e.g. alice@vendor.example); not a secret
  bool operator==(const ApiToken&) const = default;
};

struct JoinToken {
  std::string id;
  std::string environment_id;
  std::string secret_sha256_hex;
  int64_t expires_at = 0;
  int64_t used_at = 0;  // 0 while unused
  bool operator==(const JoinToken&) const = default;
};

struct Agent {
  std::string environment_id;
  std::string certificate_serial;  // the newest certificate issued for this environment
  int64_t joined_at = 0;
  // The certificate a renewal replaced, still accepted until the new one is
  // first used (an agent that crashed before saving the new one isn't locked
  // out); empty otherwise. A join clears it.
  std::string previous_serial;
  bool operator==(const Agent&) const = default;
};

struct Organization {
  std::string name;
  int64_t created_at = 0;
  bool operator==(const Organization&) const = default;
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
  bool operator==(const IdempotentResponse&) const = default;
};

struct UsageTotals {
  int64_t intervals = 0;
  int64_t cpu_millis_seconds = 0;
  int64_t memory_mib_seconds = 0;
  bool operator==(const UsageTotals&) const = default;
};

class Environments {
 public:
  virtual ~Environments() = default;
  virtual std::optional<model::Environment> by_id(const std::string& id) = 0;
  virtual std::optional<model::Environment> by_name(const std::string& organization, const std::string& name) = 0;
  // All environments of an organization, or of every organization when
  // empty; by organization, then name.
  virtual std::vector<model::Environment> list(const std::string& organization) = 0;
  virtual void put(const model::Environment& e) = 0;  // insert or replace by id
  virtual void remove(const std::string& id) = 0;
};

class Services {
 public:
  virtual ~Services() = default;
  virtual std::optional<model::Service> by_id(const std::string& id) = 0;
  virtual std::optional<model::Service> by_name(const std::string& environment_id, const std::string& name) = 0;
  // Services of one environment, or of all when empty; by environment, then name.
  virtual std::vector<model::Service> list(const std::string& environment_id) = 0;
  virtual void put(const model::Service& s) = 0;  // insert or replace by id
  virtual void remove(const std::string& id) = 0;
};

class Operations {
 public:
  virtual ~Operations() = default;
  virtual std::optional<model::Operation> by_id(const std::string& id) = 0;
  // Running operations of one environment, or of all when empty; oldest first.
  virtual std::vector<model::Operation> running(const std::string& environment_id) = 0;
  // Insert, or update the progress (status, steps, result, error, updated_at) of the one with this id.
  virtual void put(const model::Operation& o) = 0;
};

class ApiTokens {
 public:
  virtual ~ApiTokens() = default;
  virtual std::optional<ApiToken> by_id(const std::string& id) = 0;
  virtual std::vector<ApiToken> list() = 0;  // by id
  virtual void put(const ApiToken& t) = 0;
  virtual void remove(const std::string& id) = 0;
};

class Organizations {
 public:
  virtual ~Organizations() = default;
  virtual std::optional<Organization> by_name(const std::string& name) = 0;
  virtual std::vector<Organization> list() = 0;  // by name
  virtual void put(const Organization& o) = 0;  // a name that exists is a conflict
};

class IdempotentResponses {
 public:
  virtual ~IdempotentResponses() = default;
  // Also holds the (token, key) pair until the transaction ends, so a
  // concurrent request with the same pair (on any server) waits for this
  // one's answer and then finds it.
  virtual std::optional<IdempotentResponse> find(const std::string& token_id, const std::string& key) = 0;
  virtual void put(const IdempotentResponse& r) = 0;  // a (token, key) that exists is a conflict
};

class JoinTokens {
 public:
  virtual ~JoinTokens() = default;
  virtual std::optional<JoinToken> by_id(const std::string& id) = 0;
  virtual void put(const JoinToken& t) = 0;
};

class Agents {
 public:
  virtual ~Agents() = default;
  virtual std::optional<Agent> by_environment(const std::string& environment_id) = 0;
  virtual void put(const Agent& a) = 0;
};

class UsageIntervals {
 public:
  virtual ~UsageIntervals() = default;
  // Records an interval once: returns false (and changes nothing) if this
  // environment already has one with the same seq.
  virtual bool insert(const std::string& environment_id, const model::UsageInterval& u) = 0;
  virtual int64_t max_seq(const std::string& environment_id) = 0;
  virtual UsageTotals totals(const std::string& environment_id) = 0;
};

// Time-bounded claims on a key (e.g. "environment/env-…") so that one
// reconciler at a time works on a resource, also across server processes.
// Times are the caller's clock (seconds); servers of one plane keep theirs
// in step (NTP), as with any lease.
class Leases {
 public:
  virtual ~Leases() = default;
  // Succeeds (and holds the key until now + ttl) if the key is free, expired,
  // or already held by `holder`. Never waits for another server: a key being
  // claimed elsewhere at this instant counts as held. On failure, sets
  // *held_until (if given) to when the current claim runs out (0: unknown).
  virtual bool acquire(const std::string& key, const std::string& holder, int64_t now, int64_t ttl_seconds,
                       int64_t* held_until = nullptr) = 0;
  virtual void release(const std::string& key, const std::string& holder) = 0;
};

// Append-only logs, one per key, each numbered 0, 1, 2, … with no gap: an
// append takes the key's head row lock until its transaction ends, so
// concurrent appends (also from other servers) queue up, and a rolled-back
// append leaves no hole. Entries are bytes, kept exactly.
class Logs {
 public:
  virtual ~Logs() = default;
  // Appends `entry` and returns its index.
  virtual int64_t append(const std::string& key, const std::string& entry) = 0;
  // Number of entries (the next index).
  virtual int64_t size(const std::string& key) = 0;
  // Entries [start, start + limit), fewer at the end.
  virtual std::vector<std::string> read(const std::string& key, int64_t start, int64_t limit) = 0;
};

// Access requests (model/access.h), kept forever: by environment, with
// filters, and the ones not yet final (their deadlines drive expiry).
struct AccessRequestFilter {
  std::string state;      // "" for any
  std::string requester;  // "" for any
  int64_t created_from = 0;   // created_at >= this (0: no bound)
  int64_t created_until = 0;  // created_at < this (0: no bound)
  int64_t limit = 1000;
};

class AccessRequests {
 public:
  virtual ~AccessRequests() = default;
  virtual void put(const model::AccessRequest& r) = 0;  // insert or replace by id
  virtual std::optional<model::AccessRequest> by_id(const std::string& id) = 0;
  // Oldest first.
  virtual std::vector<model::AccessRequest> list(const std::string& environment_id,
                                                 const AccessRequestFilter& filter) = 0;
  // The ids of requests not in a final state, of every environment.
  virtual std::vector<std::string> open() = 0;
};

// The `byoc server` processes of one plane (one store): each renews its row
// while it runs, so the others (and agents, through the join and sync
// answers) know where the plane can be reached.
struct ServerRecord {
  std::string id;   // stable across the server's restarts (its data dir's server.id)
  std::string url;  // https://HOST:PORT
  int64_t started_at = 0;
  int64_t heartbeat_at = 0;
  bool operator==(const ServerRecord&) const = default;
};

class Servers {
 public:
  virtual ~Servers() = default;
  virtual void put(const ServerRecord& s) = 0;  // insert or replace by id
  virtual std::vector<ServerRecord> list() = 0;  // by id
  virtual void remove(const std::string& id) = 0;
};

// Which server an environment's agent syncs with: written when an agent
// arrives at a server, so a server whose agent left stays quiet about it (the
// agent is connected elsewhere), and a server that died is noticed by the
// others. Removed with the environment.
struct AgentSession {
  std::string environment_id;
  std::string server_id;
  int64_t since = 0;
  bool operator==(const AgentSession&) const = default;
};

class AgentSessions {
 public:
  virtual ~AgentSessions() = default;
  virtual std::optional<AgentSession> by_environment(const std::string& environment_id) = 0;
  virtual void put(const AgentSession& s) = 0;  // insert or replace by environment
  // Removes the environment's session only if `server_id` holds it.
  virtual bool remove(const std::string& environment_id, const std::string& server_id) = 0;
  // Sessions held by servers other than `server_id`; by environment.
  virtual std::vector<AgentSession> held_elsewhere(const std::string& server_id) = 0;
};

// Versions published to the management plane (model/upgrades.h), one per (kind, name).
class Versions {
 public:
  virtual ~Versions() = default;
  virtual std::optional<model::PublishedVersion> by_name(const std::string& kind, const std::string& name) = 0;
  // Of one kind, or of all when empty; oldest publication first (then by name).
  virtual std::vector<model::PublishedVersion> list(const std::string& kind) = 0;
  virtual void put(const model::PublishedVersion& v) = 0;  // insert or replace by (kind, name)
};

// Upgrades of services (model/upgrades.h), kept after they end.
class Upgrades {
 public:
  virtual ~Upgrades() = default;
  virtual std::optional<model::Upgrade> by_id(const std::string& id) = 0;
  // An environment's, oldest first; the open ones only if asked.
  virtual std::vector<model::Upgrade> list(const std::string& environment_id, bool open_only) = 0;
  // Environments with an open upgrade (the controller's work list).
  virtual std::vector<std::string> environments_with_open() = 0;
  virtual void put(const model::Upgrade& u) = 0;  // insert or replace by id
};

}  // namespace byoc::store
