// bench/upgrade: the Kubernetes upgrader against the simulator on seeded
// fleets of 10 and 100 nodes — wall time against the lower bound no schedule
// can beat (plan/upgrade/lower_bound.h, computed from the fleet alone), surge
// node-hours, and ClickHouse pods disrupted outside their windows — side by
// side with a window-blind run of the same upgrader (every window always
// open: what an upgrade that ignores windows, like an EKS managed node group
// update, would do). Not a test; bench/README.md has the figures.
//
//   upgrade_bench [--seeds N]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <random>

#include "base/clock.h"
#include "plan/upgrade/lower_bound.h"
#include "plan/upgrade/simulated_run.h"

namespace byoc::bench {
namespace {

using namespace plan;
using namespace plan::upgrade;
using std::chrono::minutes;

constexpr const char* kZones[] = {"America/Los_Angeles", "America/New_York", "Europe/Berlin", "Asia/Kolkata",
                                  "Australia/Sydney",    "UTC",              "America/Sao_Paulo"};

int uniform(std::mt19937_64& rng, int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); }

// A window a customer might choose: nightly on weekdays, or two nights a week, 3–6 hours from 00:00–02:00.
MaintenanceWindow customer_window(std::mt19937_64& rng) {
  MaintenanceWindow w;
  w.time_zone = kZones[rng() % std::size(kZones)];
  WeeklyRule r;
  if (uniform(rng, 0, 1) == 0) {
    for (unsigned d = 1; d <= 5; ++d) r.days.emplace_back(d);
  } else {
    r.days = {std::chrono::weekday{static_cast<unsigned>(uniform(rng, 0, 2))},
              std::chrono::weekday{static_cast<unsigned>(uniform(rng, 3, 6))}};
  }
  r.start = minutes{uniform(rng, 0, 4) * 30};
  r.duration = minutes{uniform(rng, 6, 12) * 30};
  w.weekly.push_back(r);
  return w;
}

// `nodes` nodes: a tenth for system pods, the rest in ClickHouse groups of at most 15; services of
// 2-replica shards (one PDB each, maxUnavailable 1), about two replicas a ClickHouse node.
Fleet bench_fleet(int nodes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Fleet f;
  f.start = Instant{std::chrono::seconds{*parse_rfc3339("2026-12-07T09:00:00Z")}} + std::chrono::hours{uniform(rng, 0, 167)};
  f.cluster_name = "bench";
  f.cluster_version = "1.30";
  f.target_version = "1.31";
  int system = std::max(1, nodes / 10);
  f.node_groups.push_back({"system", "1.30", system, "m6i.large"});
  std::vector<std::vector<std::string>> groups;
  for (int left = nodes - system, g = 0; left > 0; ++g) {
    int n = std::min(15, left);
    std::string name = "ch" + std::to_string(g);
    f.node_groups.push_back({name, "1.30", n, "m6i.4xlarge"});
    groups.emplace_back();
    for (int i = 0; i < n; ++i) groups.back().push_back(name + "-" + std::to_string(i));
    left -= n;
  }
  for (int i = 0; i < 2; ++i) f.pods.push_back({"coredns-" + std::to_string(i), "coredns", "", "system-" + std::to_string(i % system), false, minutes{1}});
  f.pdbs.push_back({"coredns", "coredns", "", 1});
  int ch_nodes = nodes - system;
  int services = std::max(2, ch_nodes / 8);
  int shards_total = ch_nodes;  // two replicas each: two per node
  for (int s = 0; s < services; ++s) {
    std::string service = "svc" + std::to_string(s);
    f.windows[service] = customer_window(rng);
    const auto& where = groups[s % groups.size()];
    int shards = shards_total / services + (s < shards_total % services);
    for (int sh = 0; sh < shards; ++sh) {
      std::size_t first = rng() % where.size();
      for (int r = 0; r < 2; ++r) {
        f.pods.push_back({service + "-" + std::to_string(sh) + "-" + std::to_string(r), service, std::to_string(sh),
                          where[(first + r) % where.size()], true, minutes{uniform(rng, 1, 6) * 10}});
      }
      f.pdbs.push_back({service + "-" + std::to_string(sh), service, std::to_string(sh), 1});
    }
  }
  f.addons = {{"vpc-cni", "v1.18.3", "v1.19.0"}, {"coredns", "v1.11.1", "v1.11.3"}, {"kube-proxy", "v1.30.0", "v1.31.0"}};
  return f;
}

// ClickHouse pods evicted outside their service's real window, plus pods killed under them.
int disruptions_outside(const Fleet& real, const SimulatedRun& run) {
  int n = run.killed_pods;
  for (const EvictionRecord& e : run.evictions) {
    if (e.clickhouse && !drain_fits(window_at(real.windows.at(e.service), e.at), e.at, e.drain)) ++n;
  }
  return n;
}

Fleet window_blind(Fleet f) {
  for (auto& [service, w] : f.windows) {
    w.weekly = {{{std::chrono::Sunday, std::chrono::Monday, std::chrono::Tuesday, std::chrono::Wednesday,
                  std::chrono::Thursday, std::chrono::Friday, std::chrono::Saturday},
                 minutes{0},
                 minutes{24 * 60}}};
  }
  return f;
}

double hours(std::chrono::seconds s) { return std::chrono::duration<double>(s).count() / 3600; }

void run(int seeds) {
  std::printf("%5s %4s %5s | %7s %7s %6s %8s %7s | %7s %6s | %7s %7s %6s %7s\n", "nodes", "seed", "pods", "wall_h",
              "bound_h", "ratio", "surge_nh", "outside", "wall_h", "ratio", "wall_h", "bound_h", "ratio", "outside");
  for (int nodes : {10, 100}) {
    double worst = 0, worst_blind = 0, worst_throttled = 0;
    int outside = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
      Fleet f = bench_fleet(nodes, seed);
      SimulatedRun r = run_simulated_upgrade(f, seed);
      double wall = hours(std::chrono::duration_cast<std::chrono::seconds>(r.finished - f.start));
      double bound = hours(upgrade_lower_bound(f, {}));
      Fleet throttled_fleet = f;
      throttled_fleet.faults.throttle_percent = 5;
      SimulatedRun throttled = run_simulated_upgrade(throttled_fleet, seed);
      double throttled_wall = hours(std::chrono::duration_cast<std::chrono::seconds>(throttled.finished - f.start));
      Fleet blind_fleet = window_blind(f);
      SimulatedRun blind = run_simulated_upgrade(blind_fleet, seed);
      double blind_wall = hours(std::chrono::duration_cast<std::chrono::seconds>(blind.finished - f.start));
      double blind_bound = hours(upgrade_lower_bound(blind_fleet, {}));
      bool complete = r.outcome.done && r.outcome.quarantined.empty() && blind.outcome.done;
      std::printf("%5d %4d %5zu | %7.2f %7.2f %6.4f %8.1f %7d | %7.2f %6.4f | %7.2f %7.2f %6.4f %7d%s\n", nodes, seed,
                  f.pods.size(), wall, bound, wall / bound, r.surge_node_hours, disruptions_outside(f, r),
                  throttled_wall, throttled_wall / bound, blind_wall, blind_bound, blind_wall / blind_bound,
                  disruptions_outside(f, blind), complete ? "" : "  (incomplete)");
      worst_throttled = std::max(worst_throttled, throttled_wall / bound);
      outside += disruptions_outside(f, r) + disruptions_outside(f, throttled);
      worst = std::max(worst, wall / bound);
      worst_blind = std::max(worst_blind, blind_wall / blind_bound);
    }
    std::printf("%5d nodes: worst ratio %.4f (5%% throttled %.4f, window-blind %.4f; goal <= 1.2); "
                "ClickHouse pods disrupted outside windows: %d\n",
                nodes, worst, worst_throttled, worst_blind, outside);
  }
}

}  // namespace
}  // namespace byoc::bench

int main(int argc, char** argv) {
  CLI::App app("upgrade_bench: the Kubernetes upgrader against its lower bound, simulated");
  int seeds = 5;
  app.add_option("--seeds", seeds, "fleets of each size")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  byoc::bench::run(seeds);
  return 0;
}
