// Workloads for the placement benchmark: ClickHouse-shaped fleets (services of 1–4 shards × 2–3 replicas, replica
// sizes on the 1:2, 1:4 or 1:8 GiB-per-core grid, or off the grid), and the CPU-only pods of a public cluster
// trace. Each comes with its scale-in: the same replicas with new (mostly smaller) sizes, or fewer of them.
//
// Deterministic (own PRNG arithmetic, no std distributions); pure except load_trace, which reads the CSV.
#pragma once

#include <string>
#include <vector>

#include "plan/placement.h"

namespace byoc::bench {

struct Workload {
  std::string name;
  plan::PlacementInput before;  // packed mode
  plan::PlacementInput after;   // the scale-in: same ids for the replicas that stay
};

// ratio_gib_per_core: 2, 4 or 8; 0 for off-grid sizes.
Workload clickhouse_workload(const std::string& name, int replicas, int ratio_gib_per_core, uint64_t seed);

// Every pod of the trace as one fleet; the scale-in keeps the pods that lived longer than `min_lifetime_seconds`.
// Throws std::runtime_error when the file can't be read.
Workload trace_workload(const std::string& csv_path, int64_t min_lifetime_seconds);

}  // namespace byoc::bench
