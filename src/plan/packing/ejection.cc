#include "plan/packing/ejection.h"

#include <algorithm>
#include <numeric>

namespace byoc::plan::packing {

namespace {

double weight(const Resources& r) { return static_cast<double>(r.cpu_millis) + r.memory_mib / 4.0; }

// One chain search over a layout. `blocked_` marks the nodes the chain already changed (and the node being
// emptied): a chain never comes back to them, so it can't cycle.
class Chains {
 public:
  Chains(Layout& layout, int64_t total_budget)
      : layout_(layout), problem_(layout.problem()), blocked_(layout.node_count(), 0), total_(total_budget) {}

  void block(int n) { ++blocked_[n]; }
  void unblock(int n) { --blocked_[n]; }
  bool exhausted() const { return total_ <= 0; }
  int64_t remaining() const { return total_; }

  // Seats unplaced replica r, moving at most `depth` others. On failure the layout is as it was.
  bool seat(int r, int depth, int64_t budget) {
    budget_ = std::min(budget, total_);
    int64_t before = budget_;
    bool done = seat(r, depth);
    total_ -= before - budget_;
    return done;
  }

  // Failing a free chain: r onto the node whose upgrade to a dearer type costs least, if below `max_cost`
  // (never a node that continues a current node). Returns the $/h added, or a negative value.
  double seat_by_upgrade(int r, double max_cost) {
    const Resources size = problem_.replicas[r].size;
    int best = -1, best_type = -1;
    double best_cost = max_cost;
    for (int n = 0; n < layout_.node_count(); ++n) {
      if (--total_ < 0) return -1;
      if (blocked_[n] || layout_.empty(n) || layout_.node(n).origin >= 0 || !layout_.rules_allow(r, n)) continue;
      int t = problem_.cheapest_fit(layout_.load(n) + size);
      if (t < 0) continue;
      double cost = problem_.types[t].price - problem_.types[layout_.node(n).type].price;
      if (cost < best_cost - 1e-9) {
        best = n;
        best_type = t;
        best_cost = cost;
      }
    }
    if (best < 0) return -1;
    layout_.set_type(best, best_type);
    layout_.place(r, best);
    return best_cost;
  }

 private:
  bool spend() { return --budget_ >= 0; }

  // Best fit among the nodes that take r as they are.
  bool seat_direct(int r) {
    const Resources size = problem_.replicas[r].size;
    int best = -1;
    double best_left = 0;
    for (int n = 0; n < layout_.node_count(); ++n) {
      if (!spend()) return false;
      if (blocked_[n] || layout_.empty(n) || !layout_.can_place(r, n)) continue;
      double left = weight(layout_.free_room(n) - size) / weight(problem_.types[layout_.node(n).type].room);
      if (best < 0 || left < best_left) {
        best = n;
        best_left = left;
      }
    }
    if (best < 0) return false;
    layout_.place(r, best);
    return true;
  }

  // Takes `e` off its node, puts r on n, and seats e by a chain one shorter; undoes everything on failure.
  bool try_eject(int r, int n, int e, int depth) {
    const int from = layout_.node_of(e);
    layout_.remove(e);
    if (!layout_.can_place(r, n)) {
      layout_.place(e, from);
      return false;
    }
    layout_.place(r, n);
    block(n);
    block(from);
    bool done = seat(e, depth - 1);
    unblock(from);
    unblock(n);
    if (done) return true;
    layout_.remove(r);
    layout_.place(e, from);
    return false;
  }

  bool seat(int r, int depth) {
    if (seat_direct(r)) return true;
    if (depth <= 0 || budget_ <= 0) return false;
    const Replica& rep = problem_.replicas[r];
    const Group& group = problem_.groups[rep.group];
    for (int n = 0; n < layout_.node_count(); ++n) {
      if (!spend()) return false;
      if (blocked_[n] || layout_.empty(n)) continue;
      const Resources free = layout_.free_room(n);
      const int zone = layout_.node(n).zone;
      // The zone holds all the group may put there: take off a group-mate there (from n itself, a swap, or from
      // another node of the zone when r fits n as it is).
      if (layout_.zone_count(rep.group, zone) >= group.zone_max) {
        for (int mate : group.replicas) {
          int at = layout_.node_of(mate);
          if (mate == r || at < 0 || blocked_[at] || layout_.pinned(mate)) continue;
          if (layout_.node(at).zone != zone) continue;
          const Resources room = at == n ? free + problem_.replicas[mate].size : free;
          if (!rep.size.fits_in(room)) continue;
          if (try_eject(r, n, mate, depth)) return true;
        }
        continue;
      }
      // Otherwise take off one replica of n: a group-mate (anti-affinity), or one that makes the room.
      std::vector<int> on_node = layout_.node(n).replicas;
      for (int e : on_node) {
        if (layout_.pinned(e)) continue;
        if (!rep.size.fits_in(free + problem_.replicas[e].size)) continue;
        if (try_eject(r, n, e, depth)) return true;
        if (budget_ <= 0) return false;
      }
    }
    return false;
  }

  Layout& layout_;
  const Problem& problem_;
  std::vector<int> blocked_;
  int64_t total_;
  int64_t budget_ = 0;
};

std::vector<int> largest_first(const Problem& problem, std::vector<int> replicas) {
  std::stable_sort(replicas.begin(), replicas.end(), [&](int a, int b) {
    return weight(problem.replicas[a].size) > weight(problem.replicas[b].size);
  });
  return replicas;
}

}  // namespace

int place_by_ejection(Layout& layout, const std::vector<int>& replicas, const EjectionLimits& limits) {
  Chains chains(layout, limits.visits_total);
  int seated = 0;
  for (int r : largest_first(layout.problem(), replicas)) {
    if (layout.node_of(r) >= 0) continue;
    if (chains.exhausted()) break;
    if (chains.seat(r, limits.depth, limits.visits_per_replica)) ++seated;
  }
  return seated;
}

double empty_by_ejection(Layout& layout, const EjectionLimits& limits) {
  const Problem& p = layout.problem();
  auto usage = [&](int n) {
    Resources room = p.types[layout.node(n).type].room;
    Resources load = layout.load(n);
    return std::max(static_cast<double>(load.cpu_millis) / room.cpu_millis,
                    static_cast<double>(load.memory_mib) / room.memory_mib);
  };
  std::vector<int> order;
  for (int n = 0; n < layout.node_count(); ++n) {
    if (!layout.empty(n)) order.push_back(n);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return usage(a) < usage(b); });
  int64_t left = limits.visits_total;
  double saved = 0;
  for (int n : order) {
    if (left <= 0) break;
    if (layout.empty(n)) continue;
    bool has_pinned = false;
    for (int r : layout.node(n).replicas) has_pinned = has_pinned || layout.pinned(r);
    if (has_pinned) continue;
    const double price = p.types[layout.node(n).type].price;
    Layout trial = layout;
    Chains chains(trial, left);
    chains.block(n);
    // Off the node, then back onto it whatever found no chain; the node then goes or shrinks.
    std::vector<int> moving = largest_first(p, layout.node(n).replicas);
    for (int r : moving) trial.remove(r);
    std::vector<int> stuck;
    for (int r : moving) {
      if (chains.exhausted() || !chains.seat(r, limits.depth, limits.visits_per_replica)) stuck.push_back(r);
    }
    // What found no free chain may still go onto upgraded nodes, for less than the node costs in all.
    double upgrades = 0;
    std::vector<int> still;
    for (int r : stuck) {
      double added = chains.exhausted() ? -1 : chains.seat_by_upgrade(r, price - upgrades);
      if (added < 0) {
        still.push_back(r);
      } else {
        upgrades += added;
      }
    }
    left = chains.remaining();
    if (!still.empty()) {
      // Upgrades only pay when the node goes: put those replicas back where they were.
      trial = layout;
      Chains again(trial, left);
      again.block(n);
      for (int r : moving) trial.remove(r);
      stuck.clear();
      for (int r : moving) {
        if (again.exhausted() || !again.seat(r, limits.depth, limits.visits_per_replica)) stuck.push_back(r);
      }
      left = again.remaining();
      upgrades = 0;
    } else {
      stuck.clear();
    }
    double gain = price - upgrades;
    if (!stuck.empty()) {
      // The node stays; worth it only if what is left fits a cheaper type (never for a node that continues one).
      Resources load{};
      for (int r : stuck) load += p.replicas[r].size;
      int t = layout.node(n).origin >= 0 ? -1 : p.cheapest_fit(load);
      if (t < 0 || p.types[t].price >= price - 1e-9) continue;
      // The chains may have moved a group-mate into the node's zone meanwhile.
      bool back = true;
      for (int r : stuck) {
        if (!trial.can_place(r, n)) {
          back = false;
          break;
        }
        trial.place(r, n);
      }
      if (!back) continue;
      trial.set_type(n, t);
      gain = price - p.types[t].price;
    }
    layout = std::move(trial);
    saved += gain;
  }
  return saved;
}

}  // namespace byoc::plan::packing
