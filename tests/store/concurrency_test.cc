// The store with several writers: on SQLite threads of one server (a store
// file has one), on PostgreSQL also several servers (Store instances) on one
// database. Lost updates, gaps in logs, messages of rolled-back transactions
// and waits on another server's lease must not happen on either.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "base/error.h"
#include "store/sql/migrations.h"
#include "store/store.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::store {
namespace {
using namespace std::chrono_literals;

model::Environment make_env(const std::string& id, const std::string& name) {
  model::Environment e;
  e.id = id;
  e.organization = "default";
  e.name = name;
  e.cloud = "external";
  e.cidr = "10.0.0.0/16";
  return e;
}

class StoreConcurrency : public ::testing::Test {
 protected:
  // Another server on the same data: a second Store on PostgreSQL; on
  // SQLite, the same one (a store file has one server).
  Store& second() { return other ? *other : *store; }
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  std::unique_ptr<Store> store = test_store.open();
  std::unique_ptr<Store> other = test_store.postgres() ? test_store.open() : nullptr;
};

TEST_F(StoreConcurrency, ReadModifyWriteFromSeveralServersLosesNoUpdate) {
  store->transact([](Transaction& tx) { tx.environments().put(make_env("env-1", "one")); });
  int64_t start = 0;
  store->read([&](Transaction& tx) { start = tx.environments().by_id("env-1")->revision; });
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Store& s = t % 2 ? second() : *store;
      for (int i = 0; i < kEach; ++i)
        s.transact([](Transaction& tx) {
          auto e = tx.environments().by_id("env-1");
          e->revision += 1;
          tx.environments().put(*e);
        });
    });
  for (auto& t : threads) t.join();
  store->read([&](Transaction& tx) { EXPECT_EQ(tx.environments().by_id("env-1")->revision, start + kThreads * kEach); });
}

TEST_F(StoreConcurrency, LogsAreGaplessUnderConcurrentAppendsAndRollbacks) {
  constexpr int kThreads = 4, kEach = 20;
  std::mutex mutex;
  std::set<std::string> committed;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Store& s = t % 2 ? second() : *store;
      for (int i = 0; i < kEach; ++i) {
        std::string entry = "t" + std::to_string(t) + "-" + std::to_string(i);
        bool roll_back = i % 3 == 0;
        try {
          s.transact([&](Transaction& tx) {
            tx.logs().append("audit/env-1", entry);
            if (roll_back) throw Error::Internal("rolled back on purpose");
          });
          std::lock_guard lock(mutex);
          committed.insert(entry);
        } catch (const Error&) {
          EXPECT_TRUE(roll_back);
        }
      }
    });
  for (auto& t : threads) t.join();
  store->read([&](Transaction& tx) {
    ASSERT_EQ(tx.logs().size("audit/env-1"), static_cast<int64_t>(committed.size()));
    auto entries = tx.logs().read("audit/env-1", 0, 1000);
    ASSERT_EQ(entries.size(), committed.size());
    EXPECT_EQ(std::set<std::string>(entries.begin(), entries.end()), committed);
    EXPECT_EQ(tx.logs().size("audit/other"), 0);
  });
}

TEST_F(StoreConcurrency, LogEntriesKeepTheirBytesAndReadInRanges) {
  std::string binary("\0\x01\xff\\x00 'quoted' \"d\"\n", 19);
  store->transact([&](Transaction& tx) {
    EXPECT_EQ(tx.logs().append("k", binary), 0);
    EXPECT_EQ(tx.logs().append("k", ""), 1);
    EXPECT_EQ(tx.logs().append("k", "third"), 2);
    EXPECT_EQ(tx.logs().append("other", "x"), 0);
  });
  store->read([&](Transaction& tx) {
    EXPECT_EQ(tx.logs().read("k", 0, 1), std::vector<std::string>{binary});
    EXPECT_EQ(tx.logs().read("k", 1, 10), (std::vector<std::string>{"", "third"}));
    EXPECT_TRUE(tx.logs().read("k", 3, 10).empty());
    EXPECT_TRUE(tx.logs().read("k", -1, 10).empty());
    EXPECT_TRUE(tx.logs().read("k", 0, 0).empty());
  });
  EXPECT_THROW(store->read([](Transaction& tx) { tx.logs().append("k", "no"); }), Error);
}

TEST_F(StoreConcurrency, MessagesArriveOnceCommittedOnEveryServerAndNeverFromARollback) {
  std::mutex mutex;
  std::vector<std::string> seen;
  second().subscribe([&](const std::string& topic, const std::string& message) {
    std::lock_guard lock(mutex);
    if (!topic.empty()) seen.push_back(topic + "=" + message);
  });
  auto heard = [&](const std::string& what) {
    std::lock_guard lock(mutex);
    return std::find(seen.begin(), seen.end(), what) != seen.end();
  };
  EXPECT_THROW(store->transact([](Transaction& tx) {
    tx.publish("revision", "env-1 7");
    throw Error::Internal("rolled back on purpose");
  }),
               Error);
  store->transact([](Transaction& tx) { tx.publish("revision", "env-1 8"); });
  EXPECT_TRUE(testing::eventually([&] { return heard("revision=env-1 8"); }, 10s));
  // The later message came, so the rolled-back one, sent before it, never will.
  EXPECT_FALSE(heard("revision=env-1 7"));
  EXPECT_THROW(store->transact([](Transaction& tx) { tx.publish("two words", "x"); }), Error);
  EXPECT_THROW(store->transact([](Transaction& tx) { tx.publish("big", std::string(8000, 'x')); }), Error);
  EXPECT_THROW(store->read([](Transaction& tx) { tx.publish("revision", "env-1 9"); }), Error);
}

TEST_F(StoreConcurrency, AnotherServersCommitMovesTheGenerationAtOnce) {
  if (!test_store.postgres()) GTEST_SKIP() << "a SQLite store file has one server";
  Store& b = second();
  uint64_t before = b.generation();
  store->transact([](Transaction& tx) { tx.environments().put(make_env("env-1", "one")); });
  EXPECT_TRUE(testing::eventually([&] { return b.generation() > before; }, 5s));
  // What b reads from now on includes the commit.
  b.read([](Transaction& tx) { EXPECT_TRUE(tx.environments().by_id("env-1")); });
}

TEST_F(StoreConcurrency, ALeaseBeingClaimedOnAnotherServerCountsAsHeldWithoutWaiting) {
  if (!test_store.postgres()) GTEST_SKIP() << "SQLite has one writer: no claim runs beside another";
  std::promise<void> claimed, release;
  // However this test ends, the holder's transaction ends with it.
  struct Release {
    std::promise<void>& p;
    bool done = false;
    void now() {
      if (!done) p.set_value();
      done = true;
    }
    ~Release() { now(); }
  };
  auto holder = std::async(std::launch::async, [&] {
    store->transact([&](Transaction& tx) {
      EXPECT_TRUE(tx.leases().acquire("environment/e", "a", 100, 60));
      claimed.set_value();
      release.get_future().wait();  // the claim's transaction stays open
    });
  });
  Release releaser{release};
  claimed.get_future().wait();
  auto started = std::chrono::steady_clock::now();
  bool got = true;
  second().transact([&](Transaction& tx) { got = tx.leases().acquire("environment/e", "b", 100, 60); });
  EXPECT_FALSE(got);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "waited for the other server's claim";
  releaser.now();
  holder.get();
  // Committed now: a's until 160.
  int64_t held_until = 0;
  second().transact([&](Transaction& tx) { got = tx.leases().acquire("environment/e", "b", 120, 60, &held_until); });
  EXPECT_FALSE(got);
  EXPECT_EQ(held_until, 160);
  second().transact([&](Transaction& tx) { got = tx.leases().acquire("environment/e", "b", 160, 60); });
  EXPECT_TRUE(got);
}

TEST_F(StoreConcurrency, AnIdempotencyKeyMakesTheSecondRequestWaitForTheFirstsAnswer) {
  std::promise<void> first_inside, first_may_commit;
  auto first = std::async(std::launch::async, [&] {
    store->transact([&](Transaction& tx) {
      EXPECT_FALSE(tx.idempotent_responses().find("tok-1", "key-1"));
      tx.idempotent_responses().put({"tok-1", "key-1", "POST /v1/x", 201, "{\"id\":\"a\"}", 5});
      first_inside.set_value();
      first_may_commit.get_future().wait();
    });
  });
  first_inside.get_future().wait();
  auto second_request = std::async(std::launch::async, [&] {
    std::optional<IdempotentResponse> found;
    second().transact([&](Transaction& tx) { found = tx.idempotent_responses().find("tok-1", "key-1"); });
    return found;
  });
  // It can't be answered while the first is open…
  EXPECT_EQ(second_request.wait_for(300ms), std::future_status::timeout);
  first_may_commit.set_value();
  first.get();
  // …and then finds the first one's answer instead of making its own.
  auto found = second_request.get();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->body, "{\"id\":\"a\"}");
}

TEST_F(StoreConcurrency, ServersStartingTogetherMigrateOnce) {
  if (!test_store.postgres()) GTEST_SKIP() << "a SQLite store file has one server";
  testing::TestDatabase fresh;
  std::vector<std::future<int>> starts;
  for (int i = 0; i < 3; ++i)
    starts.push_back(std::async(std::launch::async, [&] { return open_postgres_store(fresh.uri())->schema_version(); }));
  const int latest = static_cast<int>(store::sql::migrations().size());
  for (auto& s : starts) EXPECT_EQ(s.get(), latest);
  EXPECT_EQ(testing::postgres_exec(fresh.uri(), "SELECT count(*) FROM schema_version"), std::to_string(latest));
}

TEST_F(StoreConcurrency, ACutOffListenerServesNoCacheAndSaysSoWhenBack) {
  if (!test_store.postgres()) GTEST_SKIP() << "SQLite has no listener";
  std::atomic<int> resumed{0};
  store->subscribe([&](const std::string& topic, const std::string&) {
    if (topic.empty()) resumed.fetch_add(1);
  });
  uint64_t steady = store->generation();
  EXPECT_EQ(store->generation(), steady);
  testing::postgres_exec(test_store.uri(),
                         "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND (query LIKE 'LISTEN %' OR query = 'SELECT 1') AND pid <> pg_backend_pid()");
  // Cut off: every call says something may have changed…
  EXPECT_TRUE(testing::eventually([&] { return store->generation() != store->generation(); }, 10s));
  // …until it listens again, and tells its subscribers to re-read.
  EXPECT_TRUE(testing::eventually([&] { return resumed.load() == 1; }, 10s));
  uint64_t again = store->generation();
  EXPECT_GT(again, steady);
  EXPECT_EQ(store->generation(), again);
}

}  // namespace
}  // namespace byoc::store
