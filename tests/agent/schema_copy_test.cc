// The pure parts of copying a service's tables to a joining replica: the
// order tables are made in, and identifier quoting. The copy itself runs
// against real replicas in rollout_runtime_test.cc.
#include <gtest/gtest.h>

#include "agent/replicas/schema_copy.h"

namespace byoc::agent::replicas {
namespace {

TEST(SchemaCopy, StoredTablesComeBeforeWhatReadsThem) {
  std::vector<TableRef> tables = {{"db", "mv", "MaterializedView"}, {"db", "all", "Distributed"},
                                  {"db", "v", "View"},              {"db", "t2", "ReplicatedMergeTree"},
                                  {"a", "m", "Merge"},              {"db", "t1", "MergeTree"}};
  std::vector<TableRef> order = creation_order(tables);
  std::vector<std::string> names;
  for (const auto& t : order) names.push_back(t.database + "." + t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"db.t1", "db.t2", "a.m", "db.all", "db.v", "db.mv"}));
}

TEST(SchemaCopy, QuotesIdentifiersWithBackquotes) {
  EXPECT_EQ(quote_identifier("events"), "`events`");
  EXPECT_EQ(quote_identifier("we`ird\\name"), "`we\\`ird\\\\name`");
}

}  // namespace
}  // namespace byoc::agent::replicas
