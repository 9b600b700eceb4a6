#include "upgrade_checks.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/clock.h"

namespace byoc::plan::upgrade::testing {

namespace {

// Zones east and west of UTC, each with a day its clocks change.
struct ZoneDay {
  const char* zone;
  const char* change;  // a UTC instant on the local day of the change
};
constexpr ZoneDay kZoneDays[] = {
    {"America/Los_Angeles", "2027-03-14T10:00:00Z"}, {"America/Los_Angeles", "2026-11-01T09:00:00Z"},
    {"Europe/Berlin", "2027-03-28T01:00:00Z"},       {"Europe/Berlin", "2026-10-25T01:00:00Z"},
    {"Australia/Sydney", "2026-10-03T16:00:00Z"},    {"Australia/Sydney", "2027-04-03T16:00:00Z"},
    {"America/New_York", "2027-03-14T07:00:00Z"},    {"Pacific/Auckland", "2026-09-26T14:00:00Z"},
    {"Asia/Kolkata", "2026-12-08T00:00:00Z"},        {"UTC", "2026-12-08T00:00:00Z"},
};

int uniform(std::mt19937_64& rng, int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); }

MaintenanceWindow random_window(std::mt19937_64& rng, const char* zone) {
  static const int kStarts[] = {0, 60, 90, 120, 150, 180, 22 * 60, 23 * 60 + 30};
  MaintenanceWindow w;
  w.time_zone = zone;
  int rules = uniform(rng, 1, 2);
  for (int r = 0; r < rules; ++r) {
    WeeklyRule rule;
    for (unsigned d = 0; d < 7; ++d) {
      if (uniform(rng, 0, 2) == 0) rule.days.emplace_back(d);
    }
    if (rule.days.empty()) rule.days.emplace_back(static_cast<unsigned>(uniform(rng, 0, 6)));
    rule.start = std::chrono::minutes{uniform(rng, 0, 3) == 0 ? uniform(rng, 0, 1439) : kStarts[rng() % 8]};
    rule.duration = std::chrono::minutes{uniform(rng, 2, 10) * 30};
    w.weekly.push_back(rule);
  }
  return w;
}

}  // namespace

Instant at(const char* rfc3339) { return Instant{std::chrono::seconds{*parse_rfc3339(rfc3339)}}; }

Fleet random_fleet(std::mt19937_64& rng, const RandomFleetOptions& o) {
  Fleet f;
  const ZoneDay& day = kZoneDays[rng() % std::size(kZoneDays)];
  f.start = at(day.change) - std::chrono::hours{uniform(rng, 0, 48)};
  f.cluster_name = "c" + std::to_string(rng() % 1000);
  int from = uniform(rng, 28, 30);
  f.cluster_version = version_of_minor(from);
  f.target_version = version_of_minor(from + uniform(rng, 0, 2) + (uniform(rng, 0, 4) > 0));
  f.eviction_timeout = std::chrono::minutes{uniform(rng, 2, 6) * 15};
  f.max_run = std::chrono::days{21};
  int groups = uniform(rng, 1, o.max_groups);
  std::vector<std::string> nodes;
  for (int g = 0; g < groups; ++g) {
    FleetNodeGroup group{"ng" + std::to_string(g), uniform(rng, 0, 5) == 0 ? f.target_version : f.cluster_version,
                         uniform(rng, 1, o.max_nodes_per_group), "m6i.xlarge"};
    if (minor_of(group.version, "") > from) group.version = f.cluster_version;
    for (int n = 0; n < group.nodes; ++n) nodes.push_back(group.name + "-" + std::to_string(n));
    f.node_groups.push_back(group);
  }
  int services = uniform(rng, 1, o.max_services);
  for (int s = 0; s < services; ++s) {
    std::string service = "svc" + std::to_string(s);
    // Most services in the day's zone (windows on the change itself), some elsewhere.
    f.windows[service] = random_window(rng, uniform(rng, 0, 2) > 0 ? day.zone : kZoneDays[rng() % std::size(kZoneDays)].zone);
    // Drains that fit the service's shortest window (the deadline path has its own test).
    int shortest = 24 * 60;
    for (const WeeklyRule& r : f.windows[service].weekly) shortest = std::min<int>(shortest, r.duration.count());
    int shards = uniform(rng, 1, o.max_shards);
    for (int sh = 0; sh < shards; ++sh) {
      int replicas = uniform(rng, 1, o.max_replicas);
      for (int r = 0; r < replicas; ++r) {
        std::string name = service + "-" + std::to_string(sh) + "-" + std::to_string(r);
        f.pods.push_back({name, service, std::to_string(sh), nodes[rng() % nodes.size()], true,
                          std::chrono::minutes{uniform(rng, 1, shortest / 10) * 10}});
      }
      f.pdbs.push_back({service + "-" + std::to_string(sh), service, std::to_string(sh), 1});
    }
  }
  for (int i = 0; i < uniform(rng, 0, 2); ++i) {
    f.pods.push_back({"kube-dns-" + std::to_string(i), "kube-dns", "", nodes[rng() % nodes.size()], false,
                      std::chrono::seconds{uniform(rng, 10, 120)}});
  }
  f.pdbs.push_back({"kube-dns", "kube-dns", "", 1});
  f.addons = {{"vpc-cni", "v1.18.0", uniform(rng, 0, 1) ? "v1.19.0" : "v1.18.0"},
              {"coredns", "v1.11.1", "v1.11.3"},
              {"kube-proxy", "v" + f.cluster_version + ".0", "v" + f.target_version + ".0"}};
  if (o.faults) {
    f.faults.throttle_percent = uniform(rng, 0, 15);
    if (uniform(rng, 0, 1)) f.faults.create_failures[f.node_groups[0].name] = uniform(rng, 1, 2);
    if (uniform(rng, 0, 2) == 0 && !f.pods.empty()) f.faults.stuck_pods.push_back(f.pods[rng() % f.pods.size()].name);
  }
  return f;
}

std::vector<std::string> violations(const Fleet& fleet, const SimulatedRun& run) {
  std::vector<std::string> out;
  auto fail = [&](std::string what) { out.push_back(std::move(what)); };
  for (const EvictionRecord& e : run.evictions) {
    if (!e.clickhouse) continue;
    WindowState s = window_at(fleet.windows.at(e.service), e.at);
    if (!drain_fits(s, e.at, e.drain)) fail("pod " + e.pod + " evicted outside its window at " + format_rfc3339(e.at.time_since_epoch().count()));
  }
  if (run.pdb_violations != 0) fail(std::to_string(run.pdb_violations) + " PDB violations");
  if (run.killed_pods != 0) fail(std::to_string(run.killed_pods) + " pods killed by a node group's deletion");
  // Replicas of one shard are never down together: the next eviction of a shard waits for the
  // previous pod to have drained and come back Ready.
  std::map<std::string, std::vector<const EvictionRecord*>> by_shard;
  std::map<std::string, std::string> shard_of;
  for (const FleetPod& p : fleet.pods) shard_of[p.name] = p.service + "/" + p.shard;
  for (const EvictionRecord& e : run.evictions) by_shard[shard_of[e.pod]].push_back(&e);
  for (const auto& [shard, list] : by_shard) {
    for (std::size_t i = 1; i < list.size(); ++i) {
      if (list[i]->at < list[i - 1]->at + list[i - 1]->drain + SimDurations{}.pod_ready) {
        fail("two replicas of " + shard + " down at once: " + list[i - 1]->pod + ", " + list[i]->pod);
      }
    }
  }
  if (!run.outcome.done) fail("the run did not finish");
  if (run.world.cluster_version != fleet.target_version) fail("control plane at " + run.world.cluster_version);
  std::set<std::string> left_behind(run.outcome.failed_node_groups.begin(), run.outcome.failed_node_groups.end());
  std::map<std::string, std::string> group_of;
  for (const FleetNodeGroup& g : fleet.node_groups) {
    for (int i = 0; i < g.nodes; ++i) group_of[g.name + "-" + std::to_string(i)] = g.name;
  }
  for (const auto& [node, reason] : run.outcome.quarantined) left_behind.insert(group_of[node]);
  for (const auto& [name, state] : run.world.node_groups) {
    if (state.rfind(fleet.target_version + " ACTIVE", 0) != 0 && !left_behind.contains(name)) {
      fail("node group " + name + " is " + state);
    }
  }
  std::set<std::string> failed(run.outcome.failed_node_groups.begin(), run.outcome.failed_node_groups.end());
  int expected = 0;
  for (const FleetNodeGroup& g : fleet.node_groups) expected += g.version != fleet.target_version && !failed.contains(g.name);
  if (run.nodegroups_created != expected) {
    fail("created " + std::to_string(run.nodegroups_created) + " node groups, expected " + std::to_string(expected));
  }
  for (const FleetPod& p : fleet.pods) {
    if (left_behind.contains(group_of[p.node])) continue;
    const std::string& now_in = run.world.pod_groups.at(p.name);
    if (now_in.empty() || run.world.node_groups.at(now_in).rfind(fleet.target_version + " ", 0) != 0) {
      fail("pod " + p.name + " is in '" + now_in + "'");
    }
  }
  for (const FleetAddon& a : fleet.addons) {
    if (run.world.addons.at(a.name) != a.target_version) fail("addon " + a.name + " at " + run.world.addons.at(a.name));
  }
  if (run.rerun_mutating_calls != 0) {
    fail("a run after completion made " + std::to_string(run.rerun_mutating_calls) + " mutating calls");
  }
  return out;
}

}  // namespace byoc::plan::upgrade::testing

namespace byoc::plan::upgrade {

void PrintTo(const WorldSummary& world, std::ostream* out) {
  *out << "control plane " << world.cluster_version << ";";
  for (const auto& [name, state] : world.node_groups) *out << " group " << name << " " << state << ";";
  for (const auto& [name, version] : world.addons) *out << " addon " << name << " " << version << ";";
  for (const auto& [pod, group] : world.pod_groups) *out << " " << pod << "@" << group;
}

}  // namespace byoc::plan::upgrade
