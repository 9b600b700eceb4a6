// The SQLite repositories: each runs its statements from the transaction's
// StatementCache (the caller owns BEGIN/COMMIT and the connection; on a
// connection opened query-only every write throws byoc::Error). One file
// each: environments.cc, services.cc, operations.cc, api_tokens.cc,
// organizations.cc, idempotent_responses.cc, join_tokens.cc, agents.cc,
// usage_intervals.cc, leases.cc.
#pragma once

#include "store/repositories.h"
#include "store/sqlite/statement.h"

namespace byoc::store::sqlite {

// What every repository holds: the statements of its transaction's connection.
class Repository {
 protected:
  explicit Repository(StatementCache& cache) : cache_(cache) {}
  StatementCache& cache_;
};

class SqliteEnvironments final : public Environments, Repository {
 public:
  explicit SqliteEnvironments(StatementCache& cache) : Repository(cache) {}
  std::optional<model::Environment> by_id(const std::string& id) override;
  std::optional<model::Environment> by_name(const std::string& organization, const std::string& name) override;
  std::vector<model::Environment> list(const std::string& organization) override;
  void put(const model::Environment& e) override;
  void remove(const std::string& id) override;
};

class SqliteServices final : public Services, Repository {
 public:
  explicit SqliteServices(StatementCache& cache) : Repository(cache) {}
  std::optional<model::Service> by_id(const std::string& id) override;
  std::optional<model::Service> by_name(const std::string& environment_id, const std::string& name) override;
  std::vector<model::Service> list(const std::string& environment_id) override;
  void put(const model::Service& s) override;
  void remove(const std::string& id) override;
};

class SqliteOperations final : public Operations, Repository {
 public:
  explicit SqliteOperations(StatementCache& cache) : Repository(cache) {}
  std::optional<model::Operation> by_id(const std::string& id) override;
  std::vector<model::Operation> running(const std::string& environment_id) override;
  void put(const model::Operation& o) override;
};

class SqliteApiTokens final : public ApiTokens, Repository {
 public:
  explicit SqliteApiTokens(StatementCache& cache) : Repository(cache) {}
  std::optional<ApiToken> by_id(const std::string& id) override;
  std::vector<ApiToken> list() override;
  void put(const ApiToken& t) override;
  void remove(const std::string& id) override;
};

class SqliteOrganizations final : public Organizations, Repository {
 public:
  explicit SqliteOrganizations(StatementCache& cache) : Repository(cache) {}
  std::optional<Organization> by_name(const std::string& name) override;
  std::vector<Organization> list() override;
  void put(const Organization& o) override;
};

class SqliteIdempotentResponses final : public IdempotentResponses, Repository {
 public:
  explicit SqliteIdempotentResponses(StatementCache& cache) : Repository(cache) {}
  std::optional<IdempotentResponse> find(const std::string& token_id, const std::string& key) override;
  void put(const IdempotentResponse& r) override;
};

class SqliteJoinTokens final : public JoinTokens, Repository {
 public:
  explicit SqliteJoinTokens(StatementCache& cache) : Repository(cache) {}
  std::optional<JoinToken> by_id(const std::string& id) override;
  void put(const JoinToken& t) override;
};

class SqliteAgents final : public Agents, Repository {
 public:
  explicit SqliteAgents(StatementCache& cache) : Repository(cache) {}
  std::optional<Agent> by_environment(const std::string& environment_id) override;
  void put(const Agent& a) override;
};

class SqliteUsageIntervals final : public UsageIntervals, Repository {
 public:
  explicit SqliteUsageIntervals(StatementCache& cache) : Repository(cache) {}
  bool insert(const std::string& environment_id, const model::UsageInterval& u) override;
  int64_t max_seq(const std::string& environment_id) override;
  UsageTotals totals(const std::string& environment_id) override;
};

class SqliteLeases final : public Leases, Repository {
 public:
  explicit SqliteLeases(StatementCache& cache) : Repository(cache) {}
  bool acquire(const std::string& key, const std::string& holder, int64_t now, int64_t ttl_seconds) override;
  void release(const std::string& key, const std::string& holder) override;
};

}  // namespace byoc::store::sqlite
