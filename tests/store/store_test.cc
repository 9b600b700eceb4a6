#include <gtest/gtest.h>
#include <sqlite3.h>

#include "base/error.h"
#include "store/sql/migrations.h"
#include "store/store.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::store {
namespace {

model::Environment make_env(const std::string& id, const std::string& name) {
  model::Environment e;
  e.id = id;
  e.name = name;
  e.cloud = "local";
  e.region = "local";
  e.cidr = "10.0.0.0/16";
  e.zones = {"a", "b"};
  e.set_condition("agent_connected", true, "", 5);
  e.created_at = e.updated_at = 7;
  return e;
}

// Each test gets its own store on the backend CTest chose.
class StoreBasics : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> open_store() { return test_store.open(); }
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
};

TEST_F(StoreBasics, MigratesFreshDatabaseToLatestVersionAndReopens) {
  {
    auto store = open_store();
    EXPECT_EQ(store->schema_version(), static_cast<int>(sql::migrations().size()));
  }
  auto again = open_store();
  EXPECT_EQ(again->schema_version(), static_cast<int>(sql::migrations().size()));
}

TEST_F(StoreBasics, RefusesDatabaseFromNewerVersion) {
  { open_store(); }
  if (test_store.postgres()) {
    testing::postgres_exec(test_store.uri(), "INSERT INTO schema_version VALUES (999, 0)");
  } else {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "byoc.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (999, 0)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_THROW(open_store(), Error);
}

TEST_F(StoreBasics, FailedTransactionWritesNothing) {
  auto store = open_store();
  EXPECT_THROW(store->transact([&](Transaction& tx) {
    tx.environments().put(make_env("env-1", "demo"));
    throw Error::Invalid("boom", "fails after the first write");
  }),
               Error);
  store->transact([&](Transaction& tx) { EXPECT_TRUE(tx.environments().list("").empty()); });
}

TEST_F(StoreBasics, DuplicateNameInOrganizationIsConflict) {
  auto store = open_store();
  store->transact([&](Transaction& tx) { tx.environments().put(make_env("env-1", "demo")); });
  try {
    store->transact([&](Transaction& tx) { tx.environments().put(make_env("env-2", "demo")); });
    FAIL() << "expected a conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  }
}

TEST_F(StoreBasics, ForeignKeysRejectServiceOfUnknownEnvironment) {
  auto store = open_store();
  model::Service s;
  s.id = "svc-1";
  s.environment_id = "env-missing";
  s.name = "x";
  EXPECT_THROW(store->transact([&](Transaction& tx) { tx.services().put(s); }), Error);
}

TEST_F(StoreBasics, UsageIntervalsCountOncePerSeq) {
  auto store = open_store();
  model::UsageInterval u{3, "svc", 1, 1, 100, 110, 10'000, 20'480};
  store->transact([&](Transaction& tx) {
    EXPECT_TRUE(tx.usage().insert("env-1", u));
    EXPECT_FALSE(tx.usage().insert("env-1", u));
    EXPECT_TRUE(tx.usage().insert("env-2", u));
    auto totals = tx.usage().totals("env-1");
    EXPECT_EQ(totals.intervals, 1);
    EXPECT_EQ(totals.cpu_millis_seconds, 10'000);
    EXPECT_EQ(tx.usage().max_seq("env-1"), 3);
  });
}

TEST_F(StoreBasics, LeasesAreExclusiveUntilExpiry) {
  auto store = open_store();
  store->transact([&](Transaction& tx) {
    EXPECT_TRUE(tx.leases().acquire("environment/e", "a", 100, 60));
    int64_t held_until = 0;
    EXPECT_FALSE(tx.leases().acquire("environment/e", "b", 120, 60, &held_until));
    EXPECT_EQ(held_until, 160);
    EXPECT_TRUE(tx.leases().acquire("environment/e", "a", 120, 60));  // renewal
    EXPECT_TRUE(tx.leases().acquire("environment/e", "b", 181, 60));  // expired
    tx.leases().release("environment/e", "a");                        // not a's anymore: no effect
    EXPECT_FALSE(tx.leases().acquire("environment/e", "a", 182, 60));
    tx.leases().release("environment/e", "b");
    EXPECT_TRUE(tx.leases().acquire("environment/e", "a", 183, 60));
  });
}

TEST_F(StoreBasics, RunningOperationsExcludeFinishedOnes) {
  auto store = open_store();
  model::Operation a;
  a.id = "op-a";
  a.kind = "environment.create";
  a.steps = {{"store", "done"}, {"provision", "running"}};
  model::Operation b = a;
  b.id = "op-b";
  b.succeed(nlohmann::json{{"x", 1}}, 9);
  store->transact([&](Transaction& tx) {
    tx.operations().put(a);
    tx.operations().put(b);
  });
  store->transact([&](Transaction& tx) {
    auto running = tx.operations().running("");
    ASSERT_EQ(running.size(), 1u);
    EXPECT_EQ(running[0].id, "op-a");
    EXPECT_EQ(running[0].steps, a.steps);
    EXPECT_EQ(tx.operations().by_id("op-b")->result["x"], 1);
  });
}

TEST_F(StoreBasics, RunningOperationsOfOneEnvironmentOldestFirst) {
  auto store = open_store();
  auto op = [](const std::string& id, const std::string& env, int64_t created) {
    model::Operation o;
    o.id = id;
    o.kind = "service.create";
    o.environment_id = env;
    o.steps = {{"store", "done"}, {"apply", "running"}};
    o.created_at = o.updated_at = created;
    return o;
  };
  store->transact([&](Transaction& tx) {
    tx.operations().put(op("op-3", "env-a", 30));
    tx.operations().put(op("op-1", "env-a", 10));
    tx.operations().put(op("op-2", "env-b", 20));
    model::Operation done = op("op-4", "env-a", 5);
    done.succeed(nullptr, 6);
    tx.operations().put(done);
  });
  store->transact([&](Transaction& tx) {
    std::vector<std::string> ids;
    for (const auto& o : tx.operations().running("env-a")) ids.push_back(o.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"op-1", "op-3"}));
    EXPECT_EQ(tx.operations().running("env-b").size(), 1u);
    EXPECT_TRUE(tx.operations().running("env-c").empty());
    EXPECT_EQ(tx.operations().running("").size(), 3u);
  });
}

TEST(StoreSpec, PicksTheBackendAndNeverRepeatsAPassword) {
  EXPECT_TRUE(is_postgres_uri("postgresql://u@h:5432/db"));
  EXPECT_TRUE(is_postgres_uri("postgres://u@h/db"));
  EXPECT_FALSE(is_postgres_uri("/var/lib/byoc/byoc.db"));
  EXPECT_EQ(redacted_store_spec("postgresql://byoc:s3cret@db.internal:5433/plane?sslmode=require"),
            "postgresql://byoc@db.internal:5433/plane");
  EXPECT_EQ(redacted_store_spec("/tmp/x.db"), "/tmp/x.db");
  testing::TempDir dir;
  try {
    open_store("postgresql://byoc:s3cret@[bad", dir.path());
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
    EXPECT_EQ(e.field(), "store");
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
  EXPECT_THROW(open_store("mysql://x/y", dir.path()), Error);
  try {
    open_store("postgresql://byoc:s3cret@127.0.0.1:1/x", dir.path());  // nothing listens on port 1
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
  // The default: SQLite in the data dir.
  EXPECT_EQ(open_store("", dir.path())->schema_version(), static_cast<int>(sql::migrations().size()));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "byoc.db"));
}

TEST(SqliteStore, AStoreFileHasOneServer) {
  testing::TempDir dir;
  auto first = open_sqlite_store(dir.path() / "byoc.db");
  try {
    open_sqlite_store(dir.path() / "byoc.db");
    FAIL() << "a second server opened the same store file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  }
  first.reset();
  EXPECT_NO_THROW(open_sqlite_store(dir.path() / "byoc.db"));
}

TEST(Migrations, ReadInPostgresqlsWords) {
  EXPECT_EQ(sql::postgres_text("CREATE TABLE t (a INTEGER NOT NULL, b BLOB, c TEXT, INTEGERS INTEGER);\n"
                               "INSERT INTO t VALUES (strftime('%s','now'), x'00', 'INTEGER');"),
            "CREATE TABLE t (a BIGINT NOT NULL, b BYTEA, c TEXT, INTEGERS BIGINT);\n"
            "INSERT INTO t VALUES (extract(epoch from now())::bigint, x'00', 'BIGINT');");
  for (const auto& m : sql::migrations()) {
    std::string pg = m.text(sql::Dialect::kPostgres);
    EXPECT_EQ(pg.find("INTEGER"), std::string::npos) << pg;
    EXPECT_EQ(pg.find("BLOB"), std::string::npos) << pg;
    EXPECT_EQ(pg.find("strftime"), std::string::npos) << pg;
  }
}

}  // namespace
}  // namespace byoc::store
