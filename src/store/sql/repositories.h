// The repositories of repositories.h, written once in SQL both backends
// read alike (statement.h): each runs its statements in the session of its
// transaction (the caller owns BEGIN/COMMIT and the connection; in a
// read-only session every write throws byoc::Error). One file each:
// environments.cc, services.cc, operations.cc, api_tokens.cc,
// organizations.cc, idempotent_responses.cc, join_tokens.cc, agents.cc,
// usage_intervals.cc, logs.cc, servers.cc, agent_sessions.cc, access_requests.cc, upgrades.cc. Leases differ
// by backend (sqlite/leases.cc, postgres/leases.cc).
#pragma once

#include "store/repositories.h"
#include "store/sql/statement.h"

namespace byoc::store::sql {

// What every repository holds: the session of its transaction.
class Repository {
 protected:
  explicit Repository(Session& session) : session_(session) {}
  Session& session_;
};

class SqlEnvironments final : public Environments, Repository {
 public:
  explicit SqlEnvironments(Session& session) : Repository(session) {}
  std::optional<model::Environment> by_id(const std::string& id) override;
  std::optional<model::Environment> by_name(const std::string& organization, const std::string& name) override;
  std::vector<model::Environment> list(const std::string& organization) override;
  void put(const model::Environment& e) override;
  void remove(const std::string& id) override;
};

class SqlServices final : public Services, Repository {
 public:
  explicit SqlServices(Session& session) : Repository(session) {}
  std::optional<model::Service> by_id(const std::string& id) override;
  std::optional<model::Service> by_name(const std::string& environment_id, const std::string& name) override;
  std::vector<model::Service> list(const std::string& environment_id) override;
  void put(const model::Service& s) override;
  void remove(const std::string& id) override;
};

class SqlOperations final : public Operations, Repository {
 public:
  explicit SqlOperations(Session& session) : Repository(session) {}
  std::optional<model::Operation> by_id(const std::string& id) override;
  std::vector<model::Operation> running(const std::string& environment_id) override;
  void put(const model::Operation& o) override;
};

class SqlApiTokens final : public ApiTokens, Repository {
 public:
  explicit SqlApiTokens(Session& session) : Repository(session) {}
  std::optional<ApiToken> by_id(const std::string& id) override;
  std::vector<ApiToken> list() override;
  void put(const ApiToken& t) override;
  void remove(const std::string& id) override;
};

class SqlOrganizations final : public Organizations, Repository {
 public:
  explicit SqlOrganizations(Session& session) : Repository(session) {}
  std::optional<Organization> by_name(const std::string& name) override;
  std::vector<Organization> list() override;
  void put(const Organization& o) override;
};

class SqlIdempotentResponses final : public IdempotentResponses, Repository {
 public:
  explicit SqlIdempotentResponses(Session& session) : Repository(session) {}
  std::optional<IdempotentResponse> find(const std::string& token_id, const std::string& key) override;
  void put(const IdempotentResponse& r) override;
};

class SqlJoinTokens final : public JoinTokens, Repository {
 public:
  explicit SqlJoinTokens(Session& session) : Repository(session) {}
  std::optional<JoinToken> by_id(const std::string& id) override;
  void put(const JoinToken& t) override;
};

class SqlAgents final : public Agents, Repository {
 public:
  explicit SqlAgents(Session& session) : Repository(session) {}
  std::optional<Agent> by_environment(const std::string& environment_id) override;
  void put(const Agent& a) override;
};

class SqlUsageIntervals final : public UsageIntervals, Repository {
 public:
  explicit SqlUsageIntervals(Session& session) : Repository(session) {}
  bool insert(const std::string& environment_id, const model::UsageInterval& u) override;
  int64_t max_seq(const std::string& environment_id) override;
  UsageTotals totals(const std::string& environment_id) override;
};

class SqlLogs final : public Logs, Repository {
 public:
  explicit SqlLogs(Session& session) : Repository(session) {}
  int64_t append(const std::string& key, const std::string& entry) override;
  int64_t size(const std::string& key) override;
  std::vector<std::string> read(const std::string& key, int64_t start, int64_t limit) override;
};

class SqlServers final : public Servers, Repository {
 public:
  explicit SqlServers(Session& session) : Repository(session) {}
  void put(const ServerRecord& s) override;
  std::vector<ServerRecord> list() override;
  void remove(const std::string& id) override;
};

class SqlAgentSessions final : public AgentSessions, Repository {
 public:
  explicit SqlAgentSessions(Session& session) : Repository(session) {}
  std::optional<AgentSession> by_environment(const std::string& environment_id) override;
  void put(const AgentSession& s) override;
  bool remove(const std::string& environment_id, const std::string& server_id) override;
  std::vector<AgentSession> held_elsewhere(const std::string& server_id) override;
};

class SqlAccessRequests final : public AccessRequests, Repository {
 public:
  explicit SqlAccessRequests(Session& session) : Repository(session) {}
  void put(const model::AccessRequest& r) override;
  std::optional<model::AccessRequest> by_id(const std::string& id) override;
  std::vector<model::AccessRequest> list(const std::string& environment_id,
                                         const AccessRequestFilter& filter) override;
  std::vector<std::string> open() override;
};

class SqlVersions final : public Versions, Repository {
 public:
  explicit SqlVersions(Session& session) : Repository(session) {}
  std::optional<model::PublishedVersion> by_name(const std::string& kind, const std::string& name) override;
  std::vector<model::PublishedVersion> list(const std::string& kind) override;
  void put(const model::PublishedVersion& v) override;
};

class SqlUpgrades final : public Upgrades, Repository {
 public:
  explicit SqlUpgrades(Session& session) : Repository(session) {}
  std::optional<model::Upgrade> by_id(const std::string& id) override;
  std::vector<model::Upgrade> list(const std::string& environment_id, bool open_only) override;
  std::vector<std::string> environments_with_open() override;
  void put(const model::Upgrade& u) override;
};

}  // namespace byoc::store::sql
