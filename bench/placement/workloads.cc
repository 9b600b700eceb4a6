#include "workloads.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace byoc::bench {

namespace {

// splitmix64: portable, so every machine benchmarks the same fleets.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  double unit() { return static_cast<double>(next() >> 11) / static_cast<double>(1ULL << 53); }
};

plan::PlacementInput base_input() {
  plan::PlacementInput in;
  in.mode = plan::PlacementMode::kPacked;
  in.zones = {"us-east-1a", "us-east-1b", "us-east-1c"};
  in.allocatable.daemonsets = plan::Resources{200, 512};  // e.g. CNI, kube-proxy, node exporter, log shipper
  return in;
}

}  // namespace

Workload clickhouse_workload(const std::string& name, int replicas, int ratio, uint64_t seed) {
  Rng rng{seed};
  Workload w{name, base_input(), base_input()};
  // Cores per replica, small ones commoner, as in a managed-ClickHouse fleet.
  const int cores[] = {1, 2, 2, 4, 4, 4, 8, 8, 16, 30};
  int service = 0;
  while (static_cast<int>(w.before.replicas.size()) < replicas) {
    int shards = 1 << rng.below(3);         // 1, 2, 4
    int per_shard = 2 + (rng.below(3) == 0);  // 2 or 3
    plan::Resources size;
    if (ratio > 0) {
      int c = cores[rng.below(10)];
      size = plan::Resources{c * 1000, static_cast<int64_t>(c) * ratio * 1024};
    } else {
      // Off the grid: 0.5–12 cores in 10m steps, 1.5–9 GiB per core.
      int64_t cpu = 500 + 10 * rng.below(1151);
      double gib_per_core = 1.5 + 7.5 * rng.unit();
      size = plan::Resources{cpu, static_cast<int64_t>(cpu / 1000.0 * gib_per_core * 1024)};
    }
    // The scale-in: half the services halve (to the grid), one in six loses a replica per shard.
    bool shrink = rng.below(2) == 0;
    bool fewer = per_shard == 3 && rng.below(2) == 0;
    plan::Resources smaller = size;
    if (shrink) {
      smaller.cpu_millis = std::max<int64_t>(250, size.cpu_millis / 2);
      smaller.memory_mib = std::max<int64_t>(512, size.memory_mib / 2);
    }
    std::string svc = "svc" + std::to_string(service++);
    for (int s = 0; s < shards; ++s) {
      for (int r = 0; r < per_shard; ++r) {
        if (static_cast<int>(w.before.replicas.size()) >= replicas) break;
        std::string id = svc + "-s" + std::to_string(s) + "-r" + std::to_string(r);
        w.before.replicas.push_back(plan::ReplicaRequest{id, svc, std::to_string(s), size});
        if (!(fewer && r == per_shard - 1)) {
          w.after.replicas.push_back(plan::ReplicaRequest{id, svc, std::to_string(s), smaller});
        }
      }
    }
  }
  return w;
}

Workload trace_workload(const std::string& csv_path, int64_t min_lifetime_seconds) {
  std::ifstream in(csv_path);
  if (!in) throw std::runtime_error("can't read " + csv_path);
  struct Pod {
    std::string name;
    int64_t cpu, mem, created, deleted;
  };
  std::vector<Pod> pods;
  std::string line;
  std::getline(in, line);  // header: name,cpu_milli,memory_mib,qos,creation_time,deletion_time
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string f[6];
    for (auto& x : f) std::getline(ss, x, ',');
    if (f[0].empty()) continue;
    pods.push_back(Pod{f[0], std::stoll(f[1]), std::stoll(f[2]), std::stoll(f[4]), std::stoll(f[5])});
  }
  // The trace's pods are short-lived (at most 15 run at once), so the fleet is its whole demand mix at once; the
  // scale-in keeps the pods that ran longer than `min_lifetime_seconds` (the services) and drops the batch jobs.
  Workload w{"trace ×" + std::to_string(pods.size()), base_input(), base_input()};
  for (const auto& p : pods) {
    // Each pod is its own service: no anti-affinity between pods.
    plan::ReplicaRequest r{p.name, p.name, "0", plan::Resources{p.cpu, p.mem}};
    w.before.replicas.push_back(r);
    if (p.deleted - p.created > min_lifetime_seconds) w.after.replicas.push_back(r);
  }
  return w;
}

}  // namespace byoc::bench
