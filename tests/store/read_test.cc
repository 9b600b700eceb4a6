// Store::read() (read-only snapshots beside the writer), Store::generation()
// and GenerationCache, and the JSON columns' fast reading path.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/error.h"
#include "store/generation_cache.h"
#include "store/sql/columns.h"
#include "store/store.h"
#include "testing/test_store.h"
#include "testing/testing.h"

namespace byoc::store {
namespace {
using namespace std::chrono_literals;

model::Environment make_env(const std::string& id, const std::string& name, const std::string& org = "default") {
  model::Environment e;
  e.id = id;
  e.organization = org;
  e.name = name;
  e.cloud = "external";
  e.cidr = "10.0.0.0/16";
  e.zones = {"a", "b"};
  e.set_condition("agent_connected", false, "never_connected", 5);
  return e;
}

class StoreRead : public ::testing::Test {
 protected:
  testing::TempDir dir;
  testing::TestStore test_store{dir.path()};
  std::unique_ptr<Store> store = test_store.open();
};

TEST_F(StoreRead, SeesEveryCommittedTransactionAndRefusesWrites) {
  store->transact([](Transaction& tx) { tx.environments().put(make_env("env-1", "one")); });
  store->read([](Transaction& tx) { EXPECT_TRUE(tx.environments().by_name("default", "one")); });
  store->transact([](Transaction& tx) { tx.environments().remove("env-1"); });
  store->read([](Transaction& tx) { EXPECT_FALSE(tx.environments().by_name("default", "one")); });

  EXPECT_THROW(store->read([](Transaction& tx) { tx.environments().put(make_env("env-2", "two")); }), Error);
  store->transact([](Transaction& tx) { EXPECT_FALSE(tx.environments().by_id("env-2")); });
  // The connection is usable again after the refused write.
  store->read([](Transaction& tx) { EXPECT_TRUE(tx.environments().list("").empty()); });
}

// The generation once nothing more is on its way (PostgreSQL: a commit moves
// it at once, and again when its notification comes back).
uint64_t settled_generation(Store& store) {
  uint64_t g = store.generation();
  for (int quiet = 0; quiet < 5;) {
    std::this_thread::sleep_for(10ms);
    uint64_t now = store.generation();
    quiet = now == g ? quiet + 1 : 0;
    g = now;
  }
  return g;
}

TEST_F(StoreRead, GenerationMovesOnExactlyWhenACommitChangedSomething) {
  uint64_t start = settled_generation(*store);
  store->transact([](Transaction& tx) { tx.environments().list(""); });  // reads only
  store->read([](Transaction& tx) { tx.environments().list(""); });
  EXPECT_EQ(settled_generation(*store), start);

  store->transact([](Transaction& tx) { tx.environments().put(make_env("env-1", "one")); });
  EXPECT_GT(store->generation(), start);  // at once, when transact() returns
  uint64_t after_one = settled_generation(*store);

  EXPECT_THROW(store->transact([](Transaction& tx) {
    tx.environments().put(make_env("env-2", "two"));
    throw Error::Internal("rolled back");
  }),
               Error);
  EXPECT_EQ(settled_generation(*store), after_one);

  store->transact([](Transaction& tx) { tx.api_tokens().put({"t1", "hash", "customer", "default", 0}); });
  uint64_t after_two = store->generation();
  EXPECT_GT(after_two, after_one);
  store->transact([](Transaction& tx) { tx.api_tokens().remove("t1"); });
  EXPECT_GT(store->generation(), after_two);
}

TEST_F(StoreRead, ReaderIsNotHeldUpByAnOpenWriteTransaction) {
  store->transact([](Transaction& tx) { tx.environments().put(make_env("env-1", "one")); });
  std::promise<void> writer_inside, reader_done;
  auto writer = std::async(std::launch::async, [&] {
    store->transact([&](Transaction& tx) {
      tx.environments().put(make_env("env-2", "two"));
      writer_inside.set_value();
      // Holds the write transaction open until the reader has finished.
      reader_done.get_future().wait();
    });
  });
  writer_inside.get_future().wait();
  auto reader = std::async(std::launch::async, [&] {
    size_t seen = 0;
    store->read([&](Transaction& tx) { seen = tx.environments().list("").size(); });
    return seen;
  });
  // Bounded only so that a regression fails instead of hanging.
  ASSERT_EQ(reader.wait_for(30s), std::future_status::ready) << "read() waited for the writer";
  EXPECT_EQ(reader.get(), 1u);  // the snapshot before the open transaction
  reader_done.set_value();
  writer.get();
  store->read([](Transaction& tx) { EXPECT_EQ(tx.environments().list("").size(), 2u); });
}

TEST_F(StoreRead, ConcurrentReadersSeeEveryWriteThatReturnedBeforeThem) {
  constexpr int kWrites = 60;
  std::atomic<int> returned{0};  // writes whose transact() has returned
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r)
    readers.emplace_back([&] {
      while (!stop.load()) {
        int before = returned.load();
        size_t seen = 0;
        store->read([&](Transaction& tx) { seen = tx.environments().list("").size(); });
        if (seen < static_cast<size_t>(before)) violations.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  for (int i = 0; i < kWrites; ++i) {
    std::string n = std::to_string(i);
    store->transact([&](Transaction& tx) { tx.environments().put(make_env("env-" + n, "e" + n)); });
    returned.fetch_add(1);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(reads.load(), 0);
  store->read([&](Transaction& tx) { EXPECT_EQ(tx.environments().list("").size(), static_cast<size_t>(kWrites)); });
}

TEST(GenerationCache, ServesOnlyAtTheGenerationItWasComputedAt) {
  GenerationCache<std::string> cache(8);
  cache.remember("k", "v5", 5);
  EXPECT_EQ(cache.find("k", 5), "v5");
  EXPECT_FALSE(cache.find("k", 6));
  EXPECT_FALSE(cache.find("other", 5));

  cache.remember("k", "v4", 4);  // from an older read: never served
  EXPECT_EQ(cache.find("k", 5), "v5");
  EXPECT_FALSE(cache.find("k", 4));

  cache.remember("j", "j6", 6);  // a newer generation drops the older entries
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.find("k", 5));
  EXPECT_EQ(cache.find("j", 6), "j6");
}

TEST(GenerationCache, StaysWithinCapacity) {
  GenerationCache<int> cache(3);
  for (int i = 0; i < 10; ++i) {
    cache.remember("k" + std::to_string(i), i, 1);
    EXPECT_LE(cache.size(), 3u);
    EXPECT_EQ(cache.find("k" + std::to_string(i), 1), i);
  }
}

TEST(JsonColumns, RoundTripAndAcceptAnyJsonLayout) {
  using nlohmann::json;
  std::vector<std::vector<std::string>> arrays = {
      {}, {"a"}, {"eu-west-1a", "eu-west-1b"}, {"quote \" and \\ back", "tab\tnew\nline"},
      {"unicode ü €", ""}, {"\x01\x1f"}};
  for (const auto& values : arrays) {
    std::string text = sql::string_array_column(values);
    EXPECT_EQ(text, json(values).dump());
    EXPECT_EQ(sql::parse_string_array_column(text), values) << text;
  }
  // Another writer's spacing or key order still reads.
  EXPECT_EQ(sql::parse_string_array_column(R"([ "a" , "b" ])"), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(sql::parse_string_array_column(R"(["a",)"), std::exception);

  std::vector<model::Condition> conditions = {{"agent_connected", true, "", 1800000000},
                                              {"ready", false, "reason with \"quotes\"", -5},
                                              {"ünïcode", false, "x", 0}};
  std::string text = sql::conditions_column(conditions);
  EXPECT_EQ(sql::parse_conditions_column(text), conditions);
  EXPECT_EQ(sql::parse_conditions_column(R"([{"type":"a","t":7,"status":true,"reason":"r"}])"),
            (std::vector<model::Condition>{{"a", true, "r", 7}}));
  EXPECT_TRUE(sql::parse_conditions_column("[]").empty());
}

TEST_F(StoreRead, EnvironmentColumnsRoundTripThroughReads) {
  auto env = make_env("env-1", "one");
  env.zones = {"z \"1\"", "z\\2", "ζ"};
  env.instance_types = {"m5.large"};
  env.set_condition("ready", true, "line\nbreak", 9);
  store->transact([&](Transaction& tx) { tx.environments().put(env); });
  store->read([&](Transaction& tx) {
    EXPECT_TRUE(tx.environments().by_id("env-1") == env);
  });
}

}  // namespace
}  // namespace byoc::store
