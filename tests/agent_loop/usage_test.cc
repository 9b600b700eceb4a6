// Usage accounting with a manual clock: exact allocation × running time,
// persistent seqs across restarts, acknowledged intervals dropped.
#include "agent/usage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kStart = 1'800'000'000;  // ManualClock's default epoch second

RunningReplica replica(int cpu = 1000, int memory = 2048, const std::string& service = "db", int r = 1) {
  return {service, 1, r, cpu, memory};
}

UsageTotals sum(const std::vector<Accrual>& accruals) {
  UsageTotals t;
  for (const auto& a : accruals) {
    t.intervals += 1;
    t.cpu_millis_seconds += a.cpu_millis_seconds;
    t.memory_mib_seconds += a.memory_mib_seconds;
  }
  return t;
}

TEST(UsageMeter, AllocationTimesRunningTime) {
  ManualClock clock;
  UsageMeter meter(clock);
  meter.sample({replica()});
  clock.advance(10s);
  meter.sample({replica()});
  auto cut = meter.cut();
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0].service, "db");
  EXPECT_EQ(cut[0].start, kStart);
  EXPECT_EQ(cut[0].end, kStart + 10);
  EXPECT_EQ(cut[0].cpu_millis_seconds, 10'000);
  EXPECT_EQ(cut[0].memory_mib_seconds, 20'480);
  EXPECT_TRUE(meter.cut().empty()) << "nothing accrued since";
}

TEST(UsageMeter, OnlyTimeBetweenTwoRunningSamplesCounts) {
  ManualClock clock;
  UsageMeter meter(clock);
  meter.sample({});
  clock.advance(5s);
  meter.sample({replica()});  // started somewhere in the last 5 s: not billed
  clock.advance(3s);
  meter.sample({replica()});
  clock.advance(4s);
  meter.sample({});  // stopped somewhere in the last 4 s: not billed
  clock.advance(100s);
  meter.sample({});
  EXPECT_EQ(sum(meter.cut()), (UsageTotals{1, 3'000, 6'144}));
}

TEST(UsageMeter, RemaindersCarryOverSoTotalsAreExact) {
  ManualClock clock;
  UsageMeter meter(clock);
  UsageTotals total;
  meter.sample({replica(333, 3)});
  for (int i = 0; i < 7; ++i) {
    clock.advance(1500ms);
    meter.sample({replica(333, 3)});
    UsageTotals t = sum(meter.cut());
    total.cpu_millis_seconds += t.cpu_millis_seconds;
    total.memory_mib_seconds += t.memory_mib_seconds;
  }
  // 10.5 s × 333 millicores = 3496.5; × 3 MiB = 31.5: only the last half unit is still open.
  EXPECT_EQ(total.cpu_millis_seconds, 3496);
  EXPECT_EQ(total.memory_mib_seconds, 31);
}

TEST(UsageMeter, ReplicasAndAllocationsAreSeparateIntervals) {
  ManualClock clock;
  UsageMeter meter(clock);
  meter.sample({replica(1000, 1024, "db", 1), replica(1000, 1024, "db", 2)});
  clock.advance(2s);
  meter.sample({replica(1000, 1024, "db", 1), replica(1000, 1024, "db", 2)});
  // Resized: the new allocation accrues separately from the next gap on.
  meter.sample({replica(2000, 4096, "db", 1)});
  clock.advance(3s);
  meter.sample({replica(2000, 4096, "db", 1)});
  auto cut = meter.cut();
  ASSERT_EQ(cut.size(), 3u);
  EXPECT_EQ(sum(cut), (UsageTotals{3, 2 * 2'000 + 6'000, 2 * 2'048 + 12'288}));
}

TEST(UsageMeter, AClockSteppingBackAccruesNothing) {
  ManualClock clock;
  UsageMeter meter(clock);
  meter.sample({replica()});
  clock.set_unix_seconds(clock.unix_seconds() - 30);  // the wall clock is set back
  meter.sample({replica()});
  EXPECT_TRUE(meter.cut().empty());
  clock.advance(40s);
  meter.sample({replica()});
  EXPECT_EQ(sum(meter.cut()).cpu_millis_seconds, 10'000) << "counted from the last sample before the step";
}

TEST(UsageMeter, RunningReplicasComeFromObservationAndAppliedSpecs) {
  std::vector<ServiceStatus> observed = {
      {"db",
       ServiceState::kReady,
       "",
       "",
       "",
       {{1, 1, ReplicaState::kRunning, 0},
        {1, 2, ReplicaState::kRestarting, 0},
        {2, 1, ReplicaState::kRunning, 0}}},
      {"orphan", ServiceState::kReady, "", "", "", {{1, 1, ReplicaState::kRunning, 0}}},
  };
  ServiceSpec spec;
  spec.name = "db";
  spec.cpu_millis = 1500;
  spec.memory_mib = 4096;
  auto running = running_replicas(observed, {{"db", spec}});
  ASSERT_EQ(running.size(), 2u);
  EXPECT_EQ(running[0], (RunningReplica{"db", 1, 1, 1500, 4096}));
  EXPECT_EQ(running[1], (RunningReplica{"db", 2, 1, 1500, 4096}));
}

std::vector<Accrual> accruals(int n) {
  std::vector<Accrual> out;
  for (int i = 0; i < n; ++i) out.push_back({"db", 1, 1, kStart + i, kStart + i + 1, 1000, 2048});
  return out;
}

TEST(UsageLedger, SeqsAreNumberedAndPersistedAcrossRestarts) {
  testing::TempDir dir;
  ManualClock clock;
  fs::path file = dir.path() / "usage.json";
  int64_t first_seq;
  {
    UsageLedger ledger(file, clock);
    first_seq = ledger.next_seq();
    EXPECT_EQ(first_seq, kStart * 1000) << "a fresh ledger starts at the clock's milliseconds";
    ledger.record(accruals(3));
    auto pending = ledger.pending(100);
    ASSERT_EQ(pending.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pending[i].seq, first_seq + i);
  }
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A restart (even with the clock set back) continues the numbering.
  clock.set_unix_seconds(clock.unix_seconds() - 3600);
  UsageLedger reopened(file, clock);
  EXPECT_EQ(reopened.next_seq(), first_seq + 3);
  EXPECT_EQ(reopened.pending_count(), 3u);
  EXPECT_EQ(reopened.totals(), (UsageTotals{3, 3000, 6144}));
  reopened.record(accruals(1));
  EXPECT_EQ(reopened.pending(100).back().seq, first_seq + 3);
}

TEST(UsageLedger, AcknowledgedIntervalsAreDroppedOthersResent) {
  testing::TempDir dir;
  ManualClock clock;
  fs::path file = dir.path() / "usage.json";
  UsageLedger ledger(file, clock);
  int64_t first = ledger.next_seq();
  ledger.record(accruals(5));
  EXPECT_EQ(ledger.pending(2).front().seq, first) << "oldest first";
  EXPECT_EQ(ledger.pending(2).size(), 2u);
  ledger.acknowledge(first - 1);  // an older ack changes nothing
  EXPECT_EQ(ledger.pending_count(), 5u);
  ledger.acknowledge(first + 2);
  ASSERT_EQ(ledger.pending_count(), 2u);
  EXPECT_EQ(ledger.pending(10).front().seq, first + 3);
  // The drop is persisted: a restart resends only what wasn't acknowledged.
  UsageLedger reopened(file, clock);
  ASSERT_EQ(reopened.pending_count(), 2u);
  EXPECT_EQ(reopened.pending(10).front().seq, first + 3);
  EXPECT_EQ(reopened.totals().intervals, 5) << "totals count every interval ever cut";
  reopened.acknowledge(first + 100);
  EXPECT_EQ(reopened.pending_count(), 0u);
  EXPECT_EQ(UsageLedger(file, clock).pending_count(), 0u);
}

TEST(UsageLedger, ACorruptFileIsAnError) {
  testing::TempDir dir;
  ManualClock clock;
  fs::path file = dir.path() / "usage.json";
  files::write_atomic(file, "{\"next_seq\": 5}", 0600);
  EXPECT_THROW(UsageLedger(file, clock), Error);
  files::write_atomic(
      file,
      R"({"next_seq": 5, "totals": {"intervals": 1, "cpu_millis_seconds": 1, "memory_mib_seconds": 1},
          "pending": [{"seq": 9, "service": "db", "shard": 1, "replica": 1, "start": 1, "end": 2,
                       "cpu_millis_seconds": 1, "memory_mib_seconds": 1}]})",
      0600);
  EXPECT_THROW(UsageLedger(file, clock), Error) << "a pending seq at or above next_seq would be reused";
}

TEST(UsageLedger, MeterAndLedgerTogetherNeverDoubleCount) {
  // Simulates syncs whose answers get lost: the same pending intervals go up
  // again until acknowledged; a server keyed by seq counts each once.
  testing::TempDir dir;
  ManualClock clock;
  UsageMeter meter(clock);
  UsageLedger ledger(dir.path() / "usage.json", clock);
  std::map<int64_t, model::UsageInterval> server;
  meter.sample({replica()});
  for (int sync = 0; sync < 20; ++sync) {
    clock.advance(7s);
    meter.sample({replica()});
    ledger.record(meter.cut());
    for (const auto& u : ledger.pending(1000)) server.emplace(u.seq, u);
    bool answer_lost = sync % 3 != 2;
    if (!answer_lost) ledger.acknowledge(server.rbegin()->first);
  }
  int64_t cpu = 0;
  for (const auto& [seq, u] : server) cpu += u.cpu_millis_seconds;
  EXPECT_EQ(cpu, 140'000);
  EXPECT_EQ(ledger.totals().cpu_millis_seconds, 140'000);
  EXPECT_EQ(static_cast<int64_t>(server.size()), ledger.totals().intervals);
}

}  // namespace
}  // namespace byoc::agent
