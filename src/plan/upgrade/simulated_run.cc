#include "plan/upgrade/simulated_run.h"

#include <cmath>

#include "base/clock.h"

namespace byoc::plan::upgrade {

UpgradeTarget upgrade_target(const Fleet& fleet) {
  UpgradeTarget t;
  t.run_id = fleet.cluster_name + "-" + fleet.target_version;
  t.target_version = fleet.target_version;
  for (const FleetAddon& a : fleet.addons) t.addon_versions[a.name] = a.target_version;
  t.windows = fleet.windows;
  t.eviction_timeout = fleet.eviction_timeout;
  t.deadline = fleet.start + fleet.max_run;
  return t;
}

void record_world(Simulator& world, SimulatedRun& run) {
  run.surge_node_hours = world.surge_node_hours();
  run.world = world.summary();
  run.evictions = world.evictions();
  run.killed_pods = world.killed_pods();
  run.pdb_violations = world.pdb_violations();
  run.nodegroups_created = world.nodegroups_created();
}

SimulatedRun run_simulated_upgrade(const Fleet& fleet, uint64_t seed, int64_t crash_at, const SimDurations& durations,
                                   UpgradeOptions options) {
  ManualClock clock(fleet.start.time_since_epoch().count());
  Simulator world(fleet, seed, clock, durations);
  SimTimeline timeline(clock);
  MemoryJournal journal;
  SimulatedRun run;
  UpgradeTarget target = upgrade_target(fleet);
  options.crash_at = crash_at;
  try {
    Upgrader upgrader(target, world, world, timeline, journal, run.events, options);
    try {
      run.outcome = upgrader.run();
      run.crash_points = upgrader.crash_points();
    } catch (const InjectedCrash&) {
      run.crash_points = upgrader.crash_points();
      throw;
    }
  } catch (const InjectedCrash&) {
    run.events.push_back({timeline.now(), "crash"});
    options.crash_at = 0;
    Upgrader resumed(target, world, world, timeline, journal, run.events, options);
    run.outcome = resumed.run();
  }
  run.finished = timeline.now();
  record_world(world, run);
  int before = world.mutating_calls();
  std::vector<UpgradeEvent> rerun_events;
  options.crash_at = 0;
  Upgrader again(target, world, world, timeline, journal, rerun_events, options);
  again.run();
  run.rerun_mutating_calls = world.mutating_calls() - before;
  return run;
}

nlohmann::json upgrade_report_json(const Fleet& fleet, const SimulatedRun& run, std::chrono::seconds lower_bound) {
  nlohmann::json events = nlohmann::json::array();
  for (const UpgradeEvent& e : run.events) {
    nlohmann::json j = {{"time", format_rfc3339(e.time.time_since_epoch().count())}, {"action", e.action}};
    if (!e.node_group.empty()) j["node_group"] = e.node_group;
    if (!e.node.empty()) j["node"] = e.node;
    if (!e.pod.empty()) j["pod"] = e.pod;
    if (!e.service.empty()) j["service"] = e.service;
    if (!e.addon.empty()) j["addon"] = e.addon;
    events.push_back(std::move(j));
  }
  nlohmann::json quarantined = nlohmann::json::array();
  for (const auto& [node, reason] : run.outcome.quarantined) quarantined.push_back(node);
  return {{"events", events},
          {"wall_seconds", (run.finished - fleet.start).count()},
          {"lower_bound_seconds", lower_bound.count()},
          {"surge_node_hours", std::round(run.surge_node_hours * 1000) / 1000},
          {"quarantined", quarantined}};
}

}  // namespace byoc::plan::upgrade
