#include "store/sqlite/transaction.h"

#include "store/sqlite/repositories.h"

namespace byoc::store::sqlite {
namespace {

// A transaction is its repositories, all on one connection's statements.
class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(StatementCache& cache)
      : environments_(cache),
        services_(cache),
        operations_(cache),
        api_tokens_(cache),
        organizations_(cache),
        idempotent_responses_(cache),
        join_tokens_(cache),
        agents_(cache),
        usage_(cache),
        leases_(cache) {}

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

 private:
  SqliteEnvironments environments_;
  SqliteServices services_;
  SqliteOperations operations_;
  SqliteApiTokens api_tokens_;
  SqliteOrganizations organizations_;
  SqliteIdempotentResponses idempotent_responses_;
  SqliteJoinTokens join_tokens_;
  SqliteAgents agents_;
  SqliteUsageIntervals usage_;
  SqliteLeases leases_;
};

}  // namespace

void with_transaction(StatementCache& cache, const std::function<void(Transaction&)>& fn) {
  SqliteTransaction tx(cache);
  fn(tx);
}

}  // namespace byoc::store::sqlite
