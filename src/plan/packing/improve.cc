#include "plan/packing/improve.h"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "base/error.h"

namespace byoc::plan::packing {

namespace {

double weight(const Resources& r) { return static_cast<double>(r.cpu_millis) + r.memory_mib / 4.0; }

// The best option for one replica; cost is the added $/h.
struct Option {
  int node = -1;      // existing node, or -1 for a new node
  int type = -1;      // the node's type after the insertion
  int zone = -1;      // for a new node
  double cost = 0;
  double leftover = 0;  // best fit: the smaller the better
};

Option best_option(const Layout& layout, int r, const InsertOptions& opt) {
  const Problem& p = layout.problem();
  const Resources size = p.replicas[r].size;
  Option best;
  best.cost = 1e300;
  for (int n = 0; opt.allow_existing_nodes && n < layout.node_count(); ++n) {
    if (n == opt.exclude_node || layout.empty(n)) continue;
    if (!layout.rules_allow(r, n)) continue;
    const Node& node = layout.node(n);
    Resources free = layout.free_room(n);
    if (size.fits_in(free)) {
      double leftover = weight(free - size) / weight(p.types[node.type].room);
      if (best.cost > 0 || leftover < best.leftover) best = Option{n, node.type, node.zone, 0, leftover};
      continue;
    }
    if (!opt.allow_upgrades || node.origin >= 0) continue;
    int t = p.cheapest_fit(layout.load(n) + size);
    if (t < 0) continue;
    double delta = p.types[t].price - p.types[node.type].price;
    if (delta < best.cost - 1e-12) {
      Resources room = p.types[t].room - layout.load(n) - size;
      best = Option{n, t, node.zone, delta, weight(room) / weight(p.types[t].room)};
    }
  }
  if (opt.allow_new_nodes) {
    int t = p.cheapest_fit(size);
    double price = p.types[t].price;
    if (price < best.cost - 1e-12) {
      // The zone: one the group still owes a replica, else the one with the fewest replicas of the group, else
      // the zone with the fewest nodes.
      int g = p.replicas[r].group;
      std::vector<int> nodes_in_zone(p.zones.size(), 0);
      for (int n = 0; n < layout.node_count(); ++n) {
        if (!layout.empty(n)) ++nodes_in_zone[layout.node(n).zone];
      }
      int zone = -1;
      for (int z = 0; z < p.zone_count(); ++z) {
        if (!layout.zone_allows(r, z)) continue;
        auto key = [&](int zz) {
          bool owes = layout.zone_count(g, zz) < p.groups[g].zone_min;
          return std::make_tuple(owes ? 0 : 1, layout.zone_count(g, zz), nodes_in_zone[zz]);
        };
        if (zone < 0 || key(z) < key(zone)) zone = z;
      }
      if (zone >= 0) best = Option{-1, t, zone, price, 0};
    }
  }
  return best;
}

}  // namespace

double insert_replicas(Layout& layout, std::vector<int> replicas, const InsertOptions& options) {
  const Problem& p = layout.problem();
  std::stable_sort(replicas.begin(), replicas.end(),
                   [&](int a, int b) { return weight(p.replicas[a].size) > weight(p.replicas[b].size); });
  double added = 0;
  for (int r : replicas) {
    Option o = best_option(layout, r, options);
    if (o.type < 0) return -1;
    int n = o.node;
    if (n < 0) {
      n = layout.add_node(o.type, o.zone);
    } else {
      layout.set_type(n, o.type);
    }
    layout.place(r, n);
    added += o.cost;
  }
  return added;
}

void insert_unplaced(Layout& layout) {
  std::vector<int> todo;
  for (size_t r = 0; r < layout.problem().replicas.size(); ++r) {
    if (layout.node_of(static_cast<int>(r)) < 0) todo.push_back(static_cast<int>(r));
  }
  if (insert_replicas(layout, todo) < 0) {
    for (int r : todo) {
      if (layout.node_of(r) >= 0) continue;
      int g = layout.problem().replicas[r].group;
      std::string counts;
      for (int z = 0; z < layout.problem().zone_count(); ++z) counts += " " + std::to_string(layout.zone_count(g, z));
      throw Error::Internal("placement repair could not place replica " + layout.problem().replicas[r].id +
                            " (zone counts" + counts + ", unplaced " + std::to_string(layout.unplaced(g)) + ")");
    }
  }
}

double downsize(Layout& layout) {
  const Problem& p = layout.problem();
  double saved = 0;
  for (int n = 0; n < layout.node_count(); ++n) {
    if (layout.empty(n) || layout.node(n).origin >= 0) continue;
    int t = p.cheapest_fit(layout.load(n));
    if (t >= 0 && p.types[t].price < p.types[layout.node(n).type].price - 1e-12) {
      saved += p.types[layout.node(n).type].price - p.types[t].price;
      layout.set_type(n, t);
    }
  }
  return saved;
}

double eliminate_nodes(Layout& layout, int max_passes) {
  const Problem& p = layout.problem();
  double saved = 0;
  for (int pass = 0; pass < max_passes; ++pass) {
    bool changed = false;
    // Least used first: their replicas are the easiest to rehome.
    std::vector<int> order;
    for (int n = 0; n < layout.node_count(); ++n) {
      if (!layout.empty(n)) order.push_back(n);
    }
    auto usage = [&](int n) {
      Resources room = p.types[layout.node(n).type].room;
      Resources load = layout.load(n);
      return std::max(static_cast<double>(load.cpu_millis) / room.cpu_millis,
                      static_cast<double>(load.memory_mib) / room.memory_mib);
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return usage(a) < usage(b); });
    for (int n : order) {
      if (layout.empty(n)) continue;
      std::vector<int> moving = layout.node(n).replicas;
      bool has_pinned = false;
      for (int r : moving) has_pinned = has_pinned || layout.pinned(r);
      if (has_pinned) continue;
      double price = p.types[layout.node(n).type].price;
      Layout trial = layout;
      for (int r : moving) trial.remove(r);
      InsertOptions opt;
      opt.allow_new_nodes = false;
      opt.exclude_node = n;
      double added = insert_replicas(trial, moving, opt);
      if (added >= 0 && added < price - 1e-9) {
        saved += price - added;
        layout = std::move(trial);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return saved;
}

void improve(Layout& layout) {
  for (int round = 0; round < 8; ++round) {
    double saved = downsize(layout);
    saved += eliminate_nodes(layout);
    if (saved <= 1e-9) break;
  }
}

}  // namespace byoc::plan::packing
