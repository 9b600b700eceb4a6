// Placement benchmark: for each workload, in one run, our packed plan and its certified bound, the dedicated
// plan, and the cluster-autoscaler-like and Karpenter-like baselines; then the scale-in of each. Prints Markdown
// tables (docs/placement.md keeps the last run). Every plan printed has passed the planner's rule checker.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "baselines.h"
#include "base/error.h"
#include "plan/packing/feasibility.h"
#include "plan/packing/problem.h"
#include "plan/placement.h"
#include "workloads.h"

using namespace byoc;
using namespace byoc::plan;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

CurrentPlan as_current(const PlacementPlan& plan) { return CurrentPlan{plan.nodes}; }

struct Row {
  std::string name;
  size_t replicas = 0;
  double dedicated = 0, autoscaler = 0, karpenter = 0, packed = 0, bound = 0, seconds = 0;
  std::string kind;
  // scale-in
  size_t after_replicas = 0;
  double after_bound = 0, after_dedicated = 0;
  std::string after_kind;
  double in_free = 0, in_limited = 0, in_autoscaler = 0, in_karpenter = 0, in_seconds = 0;
  size_t moves_free = 0, moves_limited = 0, limit = 0;
  int moves_autoscaler = 0, moves_karpenter = 0;
  double saving_free = 0;
};

Row run(const bench::Workload& w) {
  Row row;
  row.name = w.name;
  row.replicas = w.before.replicas.size();
  const Catalogue& cat = Catalogue::builtin();

  PlacementInput dedicated_in = w.before;
  dedicated_in.mode = PlacementMode::kDedicated;
  row.dedicated = plan_placement(dedicated_in, cat).cost_per_hour;

  auto start = std::chrono::steady_clock::now();
  PlacementPlan packed = plan_placement(w.before, cat);
  row.seconds = seconds_since(start);
  row.packed = packed.cost_per_hour;
  row.bound = packed.bound.cost_per_hour;
  row.kind = std::string(to_string(packed.bound.kind));

  packing::Problem before = packing::make_problem(w.before, cat);
  packing::Problem after = packing::make_problem(w.after, cat);
  auto ca = bench::autoscaler_initial(before);
  auto ka = bench::karpenter_initial(before);
  packing::check_or_throw(before, ca.solution, "autoscaler-like");
  packing::check_or_throw(before, ka.solution, "karpenter-like");
  row.autoscaler = ca.solution.cost(before);
  row.karpenter = ka.solution.cost(before);

  // Scale-in.
  row.after_replicas = w.after.replicas.size();
  PlacementInput after_dedicated = w.after;
  after_dedicated.mode = PlacementMode::kDedicated;
  row.after_dedicated = plan_placement(after_dedicated, cat).cost_per_hour;
  start = std::chrono::steady_clock::now();
  PlacementPlan free = plan_scale_in(w.after, as_current(packed), -1, cat);
  row.in_seconds = seconds_since(start);
  row.in_free = free.cost_per_hour;
  row.moves_free = free.migrations->size();
  row.saving_free = *free.saving_per_hour;
  row.after_bound = free.bound.cost_per_hour;
  row.after_kind = std::string(to_string(free.bound.kind));
  row.limit = std::max<size_t>(1, row.after_replicas / 10);
  PlacementPlan limited = plan_scale_in(w.after, as_current(packed), static_cast<int>(row.limit), cat);
  row.in_limited = limited.cost_per_hour;
  row.moves_limited = limited.migrations->size();
  auto ca_in = bench::autoscaler_scale_in(before, ca.solution, after);
  auto ka_in = bench::karpenter_scale_in(before, ka.solution, after);
  packing::check_or_throw(after, ca_in.solution, "autoscaler-like scale-in");
  packing::check_or_throw(after, ka_in.solution, "karpenter-like scale-in");
  row.in_autoscaler = ca_in.solution.cost(after);
  row.in_karpenter = ka_in.solution.cost(after);
  row.moves_autoscaler = ca_in.migrations;
  row.moves_karpenter = ka_in.migrations;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  uint64_t first_seed = 1;  // workload i (in table order) uses first_seed + i
  std::vector<int> sizes_given;
  std::string only;  // run only the workloads whose name contains this
  std::string trace = std::string(BYOC_SHARED_DIR) + "/data/trace-cpu-pods.csv";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
    } else if (!std::strcmp(argv[i], "--trace") && i + 1 < argc) {
      trace = argv[++i];
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      first_seed = std::stoull(argv[++i]);
    } else if (!std::strcmp(argv[i], "--sizes") && i + 1 < argc) {
      for (const char* s = argv[++i]; *s;) {
        char* end = nullptr;
        sizes_given.push_back(static_cast<int>(std::strtol(s, &end, 10)));
        s = *end == ',' ? end + 1 : end;
        if (end == s && *s) break;
      }
    } else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: placement_bench [--quick] [--trace FILE] [--seed N] [--sizes 100,300] [--only NAME]\n");
      return 2;
    }
  }
  std::vector<bench::Workload> workloads;
  std::vector<int> sizes = quick ? std::vector<int>{10, 100} : std::vector<int>{10, 100, 1000};
  if (!sizes_given.empty()) sizes = sizes_given;
  const std::pair<int, const char*> shapes[] = {{2, "1:2"}, {4, "1:4"}, {8, "1:8"}, {0, "off-grid"}};
  uint64_t seed = first_seed;
  for (auto [ratio, label] : shapes) {
    for (int n : sizes) {
      workloads.push_back(bench::clickhouse_workload(std::string(label) + " ×" + std::to_string(n), n, ratio, seed++));
    }
  }
  try {
    if (sizes_given.empty()) workloads.push_back(bench::trace_workload(trace, 600));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skipping the trace workload: %s\n", e.what());
  }

  std::vector<Row> rows;
  auto total = std::chrono::steady_clock::now();
  for (const auto& w : workloads) {
    if (!only.empty() && w.name.find(only) == std::string::npos) continue;
    try {
      rows.push_back(run(w));
      std::fprintf(stderr, "%s done (%.1fs)\n", w.name.c_str(), rows.back().seconds + rows.back().in_seconds);
    } catch (const byoc::Error& e) {
      std::fprintf(stderr, "%s failed: %s\n", w.name.c_str(), e.what());
      return 1;
    }
  }

  std::printf("### Placement ($/h, us-east-1 on demand; daemonsets 200m / 512 MiB per node)\n\n");
  std::printf("| workload | replicas | dedicated | CA-like | Karpenter-like | packed | bound (kind) | packed/bound "
              "| packed saves vs dedicated | time |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %s | %zu | %.4f | %.4f | %.4f | %.4f | %.4f (%s) | %.4f | %.1f%% | %.1fs |\n", r.name.c_str(),
                r.replicas, r.dedicated, r.autoscaler, r.karpenter, r.packed, r.bound, r.kind.c_str(),
                r.bound > 0 ? r.packed / r.bound : 1.0, 100 * (1 - r.packed / r.dedicated), r.seconds);
  }
  std::printf("\n### Scale-in (half the services halve, some shards lose a replica; from each method's own plan)\n\n");
  std::printf("| workload | replicas after | bound (kind) | dedicated | packed, no limit | /bound | moves | $/h saved "
              "per move | packed, K = 10%% | moves | CA-like | moves | Karpenter-like | moves | time |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %s | %zu | %.4f (%s) | %.4f | %.4f | %.4f | %zu | %.4f | %.4f | %zu ≤ %zu | %.4f | %d | %.4f | %d | "
                "%.1fs |\n",
                r.name.c_str(), r.after_replicas, r.after_bound, r.after_kind.c_str(), r.after_dedicated, r.in_free,
                r.after_bound > 0 ? r.in_free / r.after_bound : 1.0, r.moves_free,
                r.moves_free ? r.saving_free / static_cast<double>(r.moves_free) : 0.0, r.in_limited,
                r.moves_limited, r.limit, r.in_autoscaler, r.moves_autoscaler, r.in_karpenter, r.moves_karpenter,
                r.in_seconds);
  }
  std::printf("\ntotal %.0fs\n", seconds_since(total));
  return 0;
}
