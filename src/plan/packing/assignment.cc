#include "plan/packing/assignment.h"

#include <algorithm>
#include <numeric>

namespace byoc::plan::packing {

void assign_patterns(Layout& layout, const std::vector<ItemClass>& classes, const std::vector<Pattern>& nodes,
                     const std::vector<int>& zones_given) {
  const Problem& p = layout.problem();
  const int zones = p.zone_count();
  const size_t k_count = classes.size();

  std::vector<double> total(k_count, 0);
  for (const auto& pat : nodes) {
    for (auto [k, n] : pat.items) total[k] += n;
  }
  std::vector<int> order(nodes.size());
  std::iota(order.begin(), order.end(), 0);
  auto items_of = [&](const Pattern& pat) {
    int n = 0;
    for (auto [k, c] : pat.items) n += c;
    return n;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return p.types[nodes[a].type].price > p.types[nodes[b].type].price ||
           (p.types[nodes[a].type].price == p.types[nodes[b].type].price && items_of(nodes[a]) > items_of(nodes[b]));
  });

  // Zones for the new nodes.
  std::vector<std::vector<int>> zone_slots(k_count, std::vector<int>(zones, 0));
  std::vector<int> nodes_in_zone(zones, 0);
  for (int n = 0; n < layout.node_count(); ++n) {
    if (!layout.empty(n)) ++nodes_in_zone[layout.node(n).zone];
  }
  std::vector<std::vector<int>> slots(layout.node_count());  // per layout node, per class
  std::vector<int> new_nodes;
  for (int i : order) {
    const Pattern& pat = nodes[i];
    int best = 0;
    double best_score = 0;
    for (int z = 0; z < zones && zones_given.empty(); ++z) {
      double score = 0;
      for (auto [k, c] : pat.items) score += c * (zone_slots[k][z] + c) / std::max(1.0, total[k]);
      if (z == 0 || score < best_score - 1e-12 ||
          (score < best_score + 1e-12 && nodes_in_zone[z] < nodes_in_zone[best])) {
        best = z;
        best_score = score;
      }
    }
    if (!zones_given.empty()) best = zones_given[i];
    int id = layout.add_node(pat.type, best);
    slots.resize(layout.node_count());
    slots[id].assign(k_count, 0);
    for (auto [k, c] : pat.items) {
      slots[id][k] = c;
      zone_slots[k][best] += c;
    }
    ++nodes_in_zone[best];
    new_nodes.push_back(id);
  }

  // Replicas into slots, class by class (largest first, as make_classes orders them).
  for (size_t k = 0; k < k_count; ++k) {
    for (const ItemGroup& ig : classes[k].item_groups) {
      for (int r : ig.replicas) {
        if (layout.node_of(r) >= 0) continue;
        int best = -1;
        int best_zone_slots = -1;
        int best_node_slots = -1;
        bool best_deficit = false;
        int g = p.replicas[r].group;
        for (int n : new_nodes) {
          if (slots[n][k] <= 0 || !layout.can_place(r, n)) continue;
          int z = layout.node(n).zone;
          bool deficit = layout.zone_count(g, z) < p.groups[g].zone_min;
          int zs = zone_slots[k][z];
          // Prefer zones the group still owes a replica, then the zone with most free slots, then the fullest
          // node (most free slots) in it.
          bool better = best < 0 || (deficit && !best_deficit) ||
                        (deficit == best_deficit &&
                         (zs > best_zone_slots || (zs == best_zone_slots && slots[n][k] > best_node_slots)));
          if (better) {
            best = n;
            best_zone_slots = zs;
            best_node_slots = slots[n][k];
            best_deficit = deficit;
          }
        }
        if (best < 0) continue;
        layout.place(r, best);
        --slots[best][k];
        --zone_slots[k][layout.node(best).zone];
      }
    }
  }
}

}  // namespace byoc::plan::packing
