#include "store/sql/transaction.h"

#include "store/sql/repositories.h"

namespace byoc::store::sql {
namespace {

// A transaction is its repositories, all in one session.
class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(Session& session, Leases& leases)
      : session_(session),
        environments_(session),
        services_(session),
        operations_(session),
        api_tokens_(session),
        organizations_(session),
        idempotent_responses_(session),
        join_tokens_(session),
        agents_(session),
        usage_(session),
        logs_(session),
        servers_(session),
        agent_sessions_(session),
        access_requests_(session),
        versions_(session),
        upgrades_(session),
        leases_(leases) {}

  Environments& environments() override { return environments_; }
  Services& services() override { return services_; }
  Operations& operations() override { return operations_; }
  ApiTokens& api_tokens() override { return api_tokens_; }
  Organizations& organizations() override { return organizations_; }
  IdempotentResponses& idempotent_responses() override { return idempotent_responses_; }
  JoinTokens& join_tokens() override { return join_tokens_; }
  Agents& agents() override { return agents_; }
  UsageIntervals& usage() override { return usage_; }
  Leases& leases() override { return leases_; }
  Logs& logs() override { return logs_; }
  Servers& servers() override { return servers_; }
  AgentSessions& agent_sessions() override { return agent_sessions_; }
  AccessRequests& access_requests() override { return access_requests_; }
  Versions& versions() override { return versions_; }
  Upgrades& upgrades() override { return upgrades_; }
  void publish(const std::string& topic, const std::string& message) override { session_.publish(topic, message); }

 private:
  Session& session_;
  SqlEnvironments environments_;
  SqlServices services_;
  SqlOperations operations_;
  SqlApiTokens api_tokens_;
  SqlOrganizations organizations_;
  SqlIdempotentResponses idempotent_responses_;
  SqlJoinTokens join_tokens_;
  SqlAgents agents_;
  SqlUsageIntervals usage_;
  SqlLogs logs_;
  SqlServers servers_;
  SqlAgentSessions agent_sessions_;
  SqlAccessRequests access_requests_;
  SqlVersions versions_;
  SqlUpgrades upgrades_;
  Leases& leases_;
};

}  // namespace

void with_transaction(Session& session, Leases& leases, const std::function<void(Transaction&)>& fn) {
  SqlTransaction tx(session, leases);
  fn(tx);
}

}  // namespace byoc::store::sql
