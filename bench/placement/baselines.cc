#include "baselines.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace byoc::bench {

using plan::Resources;
using plan::packing::Layout;
using plan::packing::Node;
using plan::packing::Problem;
using plan::packing::Solution;

namespace {

int choose_zone(const Layout& layout, int r) {
  const Problem& p = layout.problem();
  int g = p.replicas[r].group;
  std::vector<int> nodes_in_zone(p.zones.size(), 0);
  for (int n = 0; n < layout.node_count(); ++n) {
    if (!layout.empty(n)) ++nodes_in_zone[layout.node(n).zone];
  }
  int best = -1;
  for (int z = 0; z < p.zone_count(); ++z) {
    if (!layout.zone_allows(r, z)) continue;
    auto key = [&](int zz) {
      return std::make_tuple(layout.zone_count(g, zz) < p.groups[g].zone_min ? 0 : 1, layout.zone_count(g, zz),
                             nodes_in_zone[zz]);
    };
    if (best < 0 || key(z) < key(best)) best = z;
  }
  return best;
}

std::vector<int> new_index_of(const Problem& old_problem, const Problem& problem) {
  std::unordered_map<std::string, int> index;
  for (size_t r = 0; r < problem.replicas.size(); ++r) index[problem.replicas[r].id] = static_cast<int>(r);
  std::vector<int> out(old_problem.replicas.size(), -1);
  for (size_t r = 0; r < old_problem.replicas.size(); ++r) {
    auto it = index.find(old_problem.replicas[r].id);
    if (it != index.end()) out[r] = it->second;
  }
  return out;
}

int type_index(const Problem& problem, const std::string& name) {
  for (size_t t = 0; t < problem.types.size(); ++t) {
    if (problem.types[t].name == name) return static_cast<int>(t);
  }
  return -1;
}

// The running nodes with the replicas that still fit where they are; `moved` gets the others (and new replicas).
Layout carry_over(const Problem& old_problem, const Solution& before, const Problem& problem, std::vector<int>& pending,
                  std::vector<char>& existed) {
  Layout layout(problem);
  std::vector<int> to_new = new_index_of(old_problem, problem);
  existed.assign(problem.replicas.size(), 0);
  for (const Node& old : before.nodes) {
    int n = layout.add_node(type_index(problem, old_problem.types[old.type].name), old.zone);
    for (int r : old.replicas) {
      int nr = to_new[r];
      if (nr < 0) continue;
      existed[nr] = 1;
      if (layout.can_place(nr, n)) layout.place(nr, n);
    }
  }
  for (size_t r = 0; r < problem.replicas.size(); ++r) {
    if (layout.node_of(static_cast<int>(r)) < 0) pending.push_back(static_cast<int>(r));
  }
  return layout;
}

Solution to_solution(const Layout& layout) { return layout.solution(); }

double usage(const Layout& layout, int n) {
  const Problem& p = layout.problem();
  Resources room = p.types[layout.node(n).type].room;
  Resources load = layout.load(n);
  return std::max(static_cast<double>(load.cpu_millis) / room.cpu_millis,
                  static_cast<double>(load.memory_mib) / room.memory_mib);
}

// Moves the replicas of node `from` to other nodes (first fit, same type only when `same_type`); all or nothing.
bool move_all_elsewhere(Layout& layout, int from, bool same_type, std::vector<int>* leftovers = nullptr) {
  std::vector<int> moving = layout.node(from).replicas;
  const Problem& p = layout.problem();
  std::stable_sort(moving.begin(), moving.end(), [&](int a, int b) {
    return p.replicas[a].size.cpu_millis > p.replicas[b].size.cpu_millis;
  });
  for (int r : moving) layout.remove(r);
  std::vector<std::pair<int, int>> done;
  std::vector<int> left;
  for (int r : moving) {
    int target = -1;
    for (int n = 0; n < layout.node_count(); ++n) {
      if (n == from || layout.empty(n)) continue;
      if (same_type && layout.node(n).type != layout.node(from).type) continue;
      if (layout.can_place(r, n)) {
        target = n;
        break;
      }
    }
    if (target < 0) {
      left.push_back(r);
      continue;
    }
    layout.place(r, target);
    done.emplace_back(r, target);
  }
  if (left.empty()) return true;
  if (leftovers) {
    *leftovers = left;
    return false;
  }
  for (auto [r, n] : done) layout.remove(r);
  for (int r : moving) layout.place(r, from);
  return false;
}

}  // namespace

BaselineResult autoscaler_initial(const Problem& problem) {
  Layout layout(problem);
  for (size_t i = 0; i < problem.replicas.size(); ++i) {
    int r = static_cast<int>(i);
    int t = problem.cheapest_fit(problem.replicas[r].size);
    int target = -1;
    for (int n = 0; n < layout.node_count() && target < 0; ++n) {
      if (layout.node(n).type == t && layout.can_place(r, n)) target = n;
    }
    if (target < 0) target = layout.add_node(t, choose_zone(layout, r));
    layout.place(r, target);
  }
  return BaselineResult{to_solution(layout), 0};
}

BaselineResult autoscaler_scale_in(const Problem& old_problem, const Solution& before, const Problem& problem) {
  std::vector<int> pending;
  std::vector<char> existed;
  Layout layout = carry_over(old_problem, before, problem, pending, existed);
  int migrations = 0;
  for (int r : pending) {
    migrations += existed[r];
    int t = problem.cheapest_fit(problem.replicas[r].size);
    int target = -1;
    for (int n = 0; n < layout.node_count() && target < 0; ++n) {
      if (!layout.empty(n) && layout.node(n).type == t && layout.can_place(r, n)) target = n;
    }
    if (target < 0) target = layout.add_node(t, choose_zone(layout, r));
    layout.place(r, target);
  }
  // Scale-down: a node under 50% used goes when its replicas fit on the group's other nodes.
  bool changed = true;
  while (changed) {
    changed = false;
    for (int n = 0; n < layout.node_count(); ++n) {
      if (layout.empty(n) || usage(layout, n) >= 0.5) continue;
      int count = static_cast<int>(layout.node(n).replicas.size());
      if (move_all_elsewhere(layout, n, true)) {
        migrations += count;
        changed = true;
      }
    }
  }
  return BaselineResult{to_solution(layout), migrations};
}

namespace {

// First-fit decreasing by CPU onto claims any allowed type could still hold; each claim ends as the cheapest type
// that fits it. Claims before `first_claim` are running nodes and are used only where they have room.
void karpenter_provision(Layout& layout, std::vector<int> replicas, int first_claim) {
  const Problem& p = layout.problem();
  std::stable_sort(replicas.begin(), replicas.end(), [&](int a, int b) {
    const Resources& x = p.replicas[a].size;
    const Resources& y = p.replicas[b].size;
    return x.cpu_millis != y.cpu_millis ? x.cpu_millis > y.cpu_millis : x.memory_mib > y.memory_mib;
  });
  for (int r : replicas) {
    int target = -1;
    for (int n = 0; n < layout.node_count() && target < 0; ++n) {
      if (layout.empty(n)) continue;
      if (n < first_claim) {
        if (layout.can_place(r, n)) target = n;
      } else if (layout.rules_allow(r, n) && p.cheapest_fit(layout.load(n) + p.replicas[r].size) >= 0) {
        target = n;
      }
    }
    if (target < 0) target = layout.add_node(p.cheapest_fit(p.replicas[r].size), choose_zone(layout, r));
    layout.place(r, target);
    if (target >= first_claim) layout.set_type(target, p.cheapest_fit(layout.load(target)));
  }
}

}  // namespace

BaselineResult karpenter_initial(const Problem& problem) {
  Layout layout(problem);
  std::vector<int> all(problem.replicas.size());
  std::iota(all.begin(), all.end(), 0);
  karpenter_provision(layout, all, 0);
  return BaselineResult{to_solution(layout), 0};
}

BaselineResult karpenter_scale_in(const Problem& old_problem, const Solution& before, const Problem& problem) {
  std::vector<int> pending;
  std::vector<char> existed;
  Layout layout = carry_over(old_problem, before, problem, pending, existed);
  int migrations = 0;
  for (int r : pending) migrations += existed[r];
  karpenter_provision(layout, pending, layout.node_count());
  // Single-node consolidation, one action at a time: cheapest-to-disrupt nodes (fewest replicas) first.
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<int> order;
    for (int n = 0; n < layout.node_count(); ++n) {
      if (!layout.empty(n)) order.push_back(n);
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return layout.node(a).replicas.size() < layout.node(b).replicas.size();
    });
    for (int n : order) {
      if (layout.empty(n)) continue;
      int count = static_cast<int>(layout.node(n).replicas.size());
      double price = problem.types[layout.node(n).type].price;
      std::vector<int> originals = layout.node(n).replicas;
      std::vector<int> left;
      if (move_all_elsewhere(layout, n, false, &left)) {  // delete
        migrations += count;
        changed = true;
        continue;
      }
      // Replace: the rest on one new, cheaper node.
      Resources load;
      for (int r : left) load += problem.replicas[r].size;
      int t = problem.cheapest_fit(load);
      bool replaced = false;
      if (t >= 0 && problem.types[t].price < price - 1e-9) {
        for (int z = 0; z < problem.zone_count() && !replaced; ++z) {
          int zone = (layout.node(n).zone + z) % problem.zone_count();
          int fresh = layout.add_node(t, zone);
          size_t placed = 0;
          for (int r : left) {
            if (!layout.rules_allow(r, fresh)) break;
            layout.place(r, fresh);
            ++placed;
          }
          if (placed == left.size()) {
            replaced = true;
          } else {
            for (size_t i = 0; i < placed; ++i) layout.remove(left[i]);
          }
        }
      }
      if (replaced) {
        migrations += count;
        changed = true;
        continue;
      }
      // Undo: everything back on n.
      for (int r : originals) {
        if (layout.node_of(r) >= 0) layout.remove(r);
      }
      for (int r : originals) layout.place(r, n);
    }
  }
  return BaselineResult{to_solution(layout), migrations};
}

}  // namespace byoc::bench
