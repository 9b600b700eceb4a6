// Usage accounting: what each running replica was allocated, over time, sent
// to the management plane as idempotent intervals (DESIGN §3).
//
// UsageMeter accrues allocation from samples of which replicas run: the time
// between two samples counts for a replica seen RUNNING at both, with the CPU
// (millicores) and memory (MiB) its spec allocates. Exact integer arithmetic:
// sub-unit remainders carry over to the next interval, so the sum of the
// intervals equals allocation × running time whatever the cut points.
//
// UsageLedger numbers the intervals cut from the meter with a persistent seq
// and keeps those the server hasn't acknowledged yet, in one file written
// atomically (next seq, pending intervals, totals of everything ever cut), so
// a seq is never reused across restarts and a retried report carries the same
// seqs (the server keeps each (environment, seq) once: nothing double-counts).
// A fresh ledger starts its seqs at the clock's Unix milliseconds, so an agent
// whose state dir was lost doesn't reuse the seqs of its predecessor.
// Accrual not yet cut when the agent dies is lost (under-counted, never
// double-counted): at most one sync interval per replica.
//
// Threading: UsageMeter is thread-safe. UsageLedger is not (one thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "agent/runtime.h"
#include "base/clock.h"
#include "model/protocol.h"

namespace byoc::agent {

// One replica that runs now, with its allocation.
struct RunningReplica {
  std::string service;
  int shard = 1;
  int replica = 1;
  int cpu_millis = 0;
  int memory_mib = 0;
  auto key() const { return std::tie(service, shard, replica, cpu_millis, memory_mib); }
  bool operator<(const RunningReplica& o) const { return key() < o.key(); }
  bool operator==(const RunningReplica& o) const { return key() == o.key(); }
};

// The replicas in state RUNNING per `observed`, allocated per `applied`
// (the spec the runtime was given); services without a spec are skipped.
std::vector<RunningReplica> running_replicas(const std::vector<ServiceStatus>& observed,
                                             const std::map<std::string, ServiceSpec>& applied);

// An interval not yet numbered.
struct Accrual {
  std::string service;
  int shard = 1;
  int replica = 1;
  int64_t start = 0;  // Unix seconds
  int64_t end = 0;
  int64_t cpu_millis_seconds = 0;
  int64_t memory_mib_seconds = 0;
};

class UsageMeter {
 public:
  explicit UsageMeter(const Clock& clock) : clock_(clock) {}

  // Records which replicas run now (time read from the clock).
  void sample(const std::vector<RunningReplica>& running);

  // Closes what accrued so far into intervals, at most one per replica and
  // allocation; ones that accrued less than one unit stay open.
  std::vector<Accrual> cut();

 private:
  struct Open {
    int64_t start_ms = 0;      // first instant of the open interval
    int64_t last_ms = 0;       // last instant accrued
    int64_t cpu_units = 0;     // millicore-milliseconds
    int64_t memory_units = 0;  // MiB-milliseconds
  };
  int64_t now_ms() const;

  const Clock& clock_;
  std::mutex mutex_;
  std::optional<int64_t> last_sample_ms_;
  std::vector<RunningReplica> last_running_;  // sorted
  std::map<RunningReplica, Open> open_;
};

struct UsageTotals {
  int64_t intervals = 0;
  int64_t cpu_millis_seconds = 0;
  int64_t memory_mib_seconds = 0;
  bool operator==(const UsageTotals&) const = default;
};

class UsageLedger {
 public:
  // Opens (or creates, seeding the seq from `clock`) the ledger in `file`.
  // Throws byoc::Error if the file exists but is corrupt.
  UsageLedger(std::filesystem::path file, const Clock& clock);

  // Numbers the accruals and persists them before returning.
  void record(const std::vector<Accrual>& accruals);

  // The oldest unacknowledged intervals, in seq order, at most `limit`.
  std::vector<model::UsageInterval> pending(size_t limit) const;
  size_t pending_count() const { return pending_.size(); }

  // Drops every interval with seq ≤ `acked_seq` (persisting if any went).
  void acknowledge(int64_t acked_seq);

  int64_t next_seq() const { return next_seq_; }
  // Everything ever recorded (acknowledged or not).
  const UsageTotals& totals() const { return totals_; }

 private:
  void save() const;

  std::filesystem::path file_;
  int64_t next_seq_ = 1;
  std::vector<model::UsageInterval> pending_;
  UsageTotals totals_;
};

}  // namespace byoc::agent
