// Gateway refusals on their way to the audit log, on a manual clock:
// aggregated by (service, reason, serial) with count and first/last time,
// numbered with seqs that persist across restarts and start at the clock's
// milliseconds, acknowledged entries dropped, a corrupt file set aside, and
// memory and disk bounded however many refusals come.
#include "agent/gateway_denials.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "../e2e/e2e_support.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kStart = 1'800'000'000;  // ManualClock's default epoch second
constexpr int64_t kFirstSeq = kStart * 1000;

class GatewayDenialsTest : public ::testing::Test {
 protected:
  fs::path file() const { return dir.path() / "gateway-denials.json"; }
  std::string serial(int i) const { return "a" + std::to_string(i); }

  testing::TempDir dir;
  ManualClock clock;
};

TEST_F(GatewayDenialsTest, RefusalsAggregateByServiceReasonAndSerial) {
  GatewayDenials d(file(), clock);
  EXPECT_FALSE(d.has_unreported());
  d.record("db", "grant_inactive", "0A1B");
  clock.advance(5s);
  d.record("db", "grant_inactive", "a1b");
  clock.advance(5s);
  d.record("db", "grant_inactive", "a1b");
  d.record("db", "no_certificate", "");
  d.record("web", "grant_inactive", "a1b");
  EXPECT_TRUE(d.has_unreported());

  auto p = d.pending(100);
  EXPECT_FALSE(d.has_unreported());
  ASSERT_EQ(p.size(), 3u);
  // In order of first refusal, numbered from the clock's milliseconds.
  EXPECT_EQ(p[0], (model::GatewayDenial{kFirstSeq, "db", "grant_inactive", "a1b", 3, kStart, kStart + 10}));
  EXPECT_EQ(p[1].seq, kFirstSeq + 1);
  EXPECT_EQ(p[2].seq, kFirstSeq + 2);
  EXPECT_EQ(p[1].first, kStart + 10);
  EXPECT_EQ(p[2].first, kStart + 10);
  EXPECT_EQ(d.next_seq(), kFirstSeq + 3);
}

TEST_F(GatewayDenialsTest, PendingRepeatsUnacknowledgedEntriesOldestFirst) {
  GatewayDenials d(file(), clock);
  d.record("db", "no_certificate", "");
  auto first = d.pending(10);
  clock.advance(1s);
  d.record("db", "no_certificate", "");  // a new interval: a new entry
  auto second = d.pending(10);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0], first[0]);
  EXPECT_EQ(second[1].seq, first[0].seq + 1);
  EXPECT_EQ(d.pending(1), std::vector<model::GatewayDenial>{first[0]});
  EXPECT_TRUE(d.pending(0).empty());
}

TEST_F(GatewayDenialsTest, AcknowledgedEntriesGoAndSeqsSurviveAReopen) {
  int64_t last_seq = 0;
  {
    GatewayDenials d(file(), clock);
    for (const auto* reason : {"no_certificate", "crl_stale", "grant_inactive"}) {
      d.record("db", reason, "");
      clock.advance(1s);
    }
    auto p = d.pending(10);
    ASSERT_EQ(p.size(), 3u);
    d.acknowledge(p[1].seq);
    EXPECT_EQ(d.pending_count(), 1u);
    last_seq = p[2].seq;
    d.acknowledge(p[0].seq);  // already gone: nothing changes
    EXPECT_EQ(d.pending_count(), 1u);
  }
  EXPECT_EQ(e2e::file_mode(file()), 0600u);
  clock.set_unix_seconds(kStart - 3600);  // a clock set back reuses nothing
  GatewayDenials reopened(file(), clock);
  auto p = reopened.pending(10);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].seq, last_seq);
  EXPECT_EQ(p[0].reason, "grant_inactive");
  reopened.record("db", "no_certificate", "");
  EXPECT_EQ(reopened.pending(10).back().seq, last_seq + 1);
  reopened.acknowledge(last_seq + 1);
  EXPECT_EQ(GatewayDenials(file(), clock).pending_count(), 0u);
  EXPECT_EQ(GatewayDenials(file(), clock).next_seq(), last_seq + 2);
}

TEST_F(GatewayDenialsTest, NumberedEntriesArePersistedBeforeTheyAreReturned) {
  GatewayDenials d(file(), clock);
  d.record("db", "certificate_revoked", "ff");
  auto p = d.pending(10);
  auto saved = nlohmann::json::parse(files::read(file()));
  ASSERT_EQ(saved["pending"].size(), 1u);
  EXPECT_EQ(saved["pending"][0]["seq"], p[0].seq);
  EXPECT_EQ(saved["pending"][0]["serial"], "ff");
  EXPECT_EQ(saved["next_seq"], p[0].seq + 1);
}

TEST_F(GatewayDenialsTest, ALostStateDirStartsAtTheClocksMilliseconds) {
  { GatewayDenials d(file(), clock); }
  fs::remove(file());
  clock.advance(2s);
  EXPECT_EQ(GatewayDenials(file(), clock).next_seq(), kFirstSeq + 2000);
}

TEST_F(GatewayDenialsTest, ACorruptFileIsSetAsideAndAFreshLedgerStarts) {
  for (const std::string text :
       {"not json", "{}", R"({"next_seq": 5, "pending": {}})",
        // an entry the plane would reject: a serial with a leading zero
        R"({"next_seq": 9, "pending": [{"seq": 1, "service": "db", "reason": "crl_stale", "serial": "0f",
            "count": 1, "first": 1, "last": 1}]})",
        // a pending seq not below next_seq
        R"({"next_seq": 1, "pending": [{"seq": 1, "service": "db", "reason": "crl_stale", "serial": "",
            "count": 1, "first": 1, "last": 1}]})"}) {
    files::write_atomic(file(), text, 0600);
    GatewayDenials d(file(), clock);
    EXPECT_EQ(d.pending_count(), 0u) << text;
    EXPECT_EQ(d.next_seq(), kFirstSeq) << text;
    EXPECT_EQ(files::read(fs::path(file().string() + ".corrupt")), text);
    EXPECT_EQ(GatewayDenials(file(), clock).next_seq(), kFirstSeq) << "the fresh ledger is saved";
  }
}

TEST_F(GatewayDenialsTest, MalformedServiceOrReasonIsNotCounted) {
  GatewayDenials d(file(), clock);
  d.record("DB", "grant_inactive", "");
  d.record("db", "bogus", "");
  d.record("", "grant_inactive", "");
  EXPECT_FALSE(d.has_unreported());
  EXPECT_TRUE(d.pending(10).empty());
}

TEST_F(GatewayDenialsTest, ManySerialsFoldIntoOneEntryWithoutSerial) {
  GatewayDenials d(file(), clock);
  const int n = 300;
  for (int i = 0; i < n; ++i) d.record("db", "certificate_untrusted", serial(i));
  auto p = d.pending(1000);
  const size_t kept = GatewayDenials::kMaxKeys - GatewayDenials::kFoldRoom;
  ASSERT_EQ(p.size(), kept + 1);
  int64_t total = 0;
  for (const auto& e : p) total += e.count;
  EXPECT_EQ(total, n);
  auto folded = std::find_if(p.begin(), p.end(), [](const auto& e) { return e.serial.empty(); });
  ASSERT_NE(folded, p.end());
  EXPECT_EQ(folded->count, static_cast<int64_t>(n - kept));
  EXPECT_EQ(d.dropped(), 0);
}

TEST_F(GatewayDenialsTest, BeyondEveryKeyRefusalsAreDroppedAndCounted) {
  GatewayDenials d(file(), clock);
  int64_t recorded = 0;
  for (int i = 0; i < 300; ++i, ++recorded) d.record("db", "grant_inactive", serial(i));
  // New keys without a serial fill the fold room, then are dropped.
  for (int s = 0; s < 40; ++s)
    for (const auto& reason : model::gateway_denial_codes()) {
      d.record("svc-" + std::to_string(s), reason, "");
      ++recorded;
    }
  d.record("db", "grant_inactive", serial(0));  // an existing key still counts
  ++recorded;
  auto p = d.pending(1000);
  EXPECT_EQ(p.size(), GatewayDenials::kMaxKeys);
  int64_t total = 0;
  for (const auto& e : p) total += e.count;
  EXPECT_GT(d.dropped(), 0);
  EXPECT_EQ(total + d.dropped(), recorded);
}

TEST_F(GatewayDenialsTest, TheUnacknowledgedListDropsItsOldestBeyondItsBound) {
  const size_t bound = 1000;  // kMaxPending's mechanism, at a size quick to write
  GatewayDenials d(file(), clock, bound);
  const size_t per_round = GatewayDenials::kMaxKeys - GatewayDenials::kFoldRoom;
  const size_t rounds = bound / per_round + 2;
  for (size_t r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < per_round; ++i) d.record("db", "grant_inactive", serial(static_cast<int>(i)));
    d.pending(1);
    clock.advance(1s);
  }
  size_t numbered = rounds * per_round;
  EXPECT_EQ(d.pending_count(), bound);
  EXPECT_EQ(d.dropped(), static_cast<int64_t>(numbered - bound));
  auto oldest = d.pending(1);
  EXPECT_EQ(oldest[0].seq, kFirstSeq + static_cast<int64_t>(numbered - bound));
  EXPECT_EQ(GatewayDenials(file(), clock).pending_count(), bound);
}

TEST_F(GatewayDenialsTest, RecordIsThreadSafe) {
  GatewayDenials d(file(), clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) d.record("db", "grant_inactive", serial(i % 10));
    });
  d.pending(1000);  // numbering concurrently with the recording
  for (auto& t : threads) t.join();
  int64_t sum = 0;
  for (auto& e : d.pending(1000)) sum += e.count;  // every entry, until acknowledged
  EXPECT_EQ(sum, 4000);
}

}  // namespace
}  // namespace byoc::agent
