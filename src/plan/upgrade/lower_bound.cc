#include "plan/upgrade/lower_bound.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <set>

namespace byoc::plan::upgrade {

namespace {

using std::chrono::seconds;

// The earliest t ≥ from at which a drain of `drain` may start: inside a window and over by its close.
std::optional<Instant> earliest_fit(const WindowCalendar* calendar, Instant from, seconds drain) {
  if (calendar == nullptr) return from;  // a system pod: any time
  for (const WindowInterval& w : calendar->intervals()) {
    if (w.closes && *w.closes <= from) continue;
    Instant start = std::max(from, w.opens.value_or(from));
    if (!w.closes || start + drain <= *w.closes) return start;
  }
  return std::nullopt;
}

struct ChainPod {
  const WindowCalendar* calendar;
  seconds drain;
};

// The earliest the last pod of a serial chain can have terminated: every order tried, each scheduled as
// early as it fits (for a fixed order, starting each as early as possible is optimal).
std::optional<Instant> chain_end(std::vector<ChainPod> chain, Instant ready, seconds pod_ready) {
  std::vector<std::size_t> order(chain.size());
  std::iota(order.begin(), order.end(), 0);
  std::optional<Instant> best;
  do {
    Instant t = ready;
    bool ok = true;
    for (std::size_t k = 0; k < order.size() && ok; ++k) {
      const ChainPod& p = chain[order[k]];
      auto start = earliest_fit(p.calendar, t, p.drain);
      ok = start.has_value() && (!best || *start + p.drain < *best);
      if (ok) t = *start + p.drain + (k + 1 < order.size() ? pod_ready : seconds{0});
    }
    if (ok && (!best || t < *best)) best = t;
  } while (std::next_permutation(order.begin(), order.end()));
  return best;
}

}  // namespace

seconds upgrade_lower_bound(const Fleet& fleet, const SimDurations& d) {
  int minors = minor_of(fleet.target_version, "target") - minor_of(fleet.cluster_version, "version");
  Instant t = fleet.start + minors * d.control_plane_per_minor;
  std::set<std::string> old_nodes;
  for (const FleetNodeGroup& g : fleet.node_groups) {
    if (g.version == fleet.target_version) continue;
    for (int i = 0; i < g.nodes; ++i) old_nodes.insert(g.name + "-" + std::to_string(i));
  }
  if (!old_nodes.empty()) {
    Instant ready = t + d.node_ready;
    std::map<std::string, WindowCalendar> calendars;
    for (const auto& [service, w] : fleet.windows) {
      calendars.emplace(service, WindowCalendar(w, fleet.start - std::chrono::days{1},
                                                fleet.start + fleet.max_run + std::chrono::days{2}));
    }
    // Chains: the pods to move under one budget of maxUnavailable 1; every other pod alone.
    std::map<std::string, std::vector<ChainPod>> chains;
    for (const FleetPod& p : fleet.pods) {
      bool stuck = std::find(fleet.faults.stuck_pods.begin(), fleet.faults.stuck_pods.end(), p.name) !=
                   fleet.faults.stuck_pods.end();
      if (!old_nodes.contains(p.node) || stuck) continue;
      std::string chain = "pod " + p.name;
      bool frozen = false;
      for (const FleetPdb& b : fleet.pdbs) {
        if (b.service != p.service || (!b.shard.empty() && b.shard != p.shard)) continue;
        frozen = frozen || b.max_unavailable == 0;
        if (b.max_unavailable == 1) chain = "pdb " + b.name;
      }
      if (frozen) continue;
      auto calendar = calendars.find(p.service);
      chains[chain].push_back({p.clickhouse && calendar != calendars.end() ? &calendar->second : nullptr, p.drain});
    }
    Instant last = ready;
    for (const auto& [name, chain] : chains) {
      auto end = chain_end(chain, ready, d.pod_ready);
      if (end) last = std::max(last, *end);  // a chain that never fits a window is not counted
    }
    t = last + d.nodegroup_delete;
  }
  bool addons = std::any_of(fleet.addons.begin(), fleet.addons.end(),
                            [](const FleetAddon& a) { return a.version != a.target_version; });
  if (addons) t += d.addon_update;
  return std::chrono::duration_cast<seconds>(t - fleet.start);
}

}  // namespace byoc::plan::upgrade
