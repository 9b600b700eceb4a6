#include "plan_checks.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

namespace byoc::plan::testing {

namespace {

Resources room_of(const PlacementInput& input, const std::string& type) {
  const InstanceType* t = Catalogue::builtin().find(type);
  return t ? allocatable(*t, input.allocatable) : Resources{-1, -1};
}

std::vector<const InstanceType*> allowed(const PlacementInput& input) {
  std::vector<const InstanceType*> out;
  for (const auto& t : Catalogue::builtin().types()) {
    if (input.instance_types.empty() ||
        std::find(input.instance_types.begin(), input.instance_types.end(), t.name) != input.instance_types.end()) {
      out.push_back(&t);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> plan_violation(const PlacementInput& input, const PlacementPlan& plan) {
  std::map<std::string, const ReplicaRequest*> by_id;
  for (const auto& r : input.replicas) by_id[r.id] = &r;
  std::map<std::string, int> placed;
  std::map<std::pair<std::string, std::string>, std::map<std::string, int>> per_zone;  // group -> zone -> count
  std::map<std::pair<std::string, std::string>, int> group_size;
  for (const auto& r : input.replicas) ++group_size[{r.service, r.shard}];
  double cost = 0;
  std::map<std::pair<std::string, std::string>, int> groups_seen;
  for (size_t n = 0; n < plan.nodes.size(); ++n) {
    const auto& node = plan.nodes[n];
    std::string where = "node " + std::to_string(n);
    const InstanceType* type = Catalogue::builtin().find(node.type);
    if (!type) return where + ": unknown type " + node.type;
    auto types = allowed(input);
    if (std::find(types.begin(), types.end(), type) == types.end()) return where + ": type not allowed";
    if (std::find(input.zones.begin(), input.zones.end(), node.zone) == input.zones.end()) return where + ": zone";
    if (node.replicas.empty()) return where + ": empty";
    cost += type->price_per_hour;
    ++groups_seen[{node.type, node.zone}];
    Resources load;
    std::set<std::pair<std::string, std::string>> here;
    for (const auto& id : node.replicas) {
      auto it = by_id.find(id);
      if (it == by_id.end()) return where + ": unknown replica " + id;
      ++placed[id];
      load += it->second->size;
      std::pair<std::string, std::string> g{it->second->service, it->second->shard};
      if (!here.insert(g).second) return where + ": anti-affinity broken by " + id;
      ++per_zone[g][node.zone];
    }
    if (!load.fits_in(room_of(input, node.type))) return where + ": over allocatable";
  }
  for (const auto& r : input.replicas) {
    if (placed[r.id] != 1) return "replica " + r.id + " placed " + std::to_string(placed[r.id]) + " times";
  }
  int zones = static_cast<int>(input.zones.size());
  for (const auto& [g, size] : group_size) {
    for (const auto& z : input.zones) {
      int c = per_zone[g][z];
      if (c < size / zones || c > (size + zones - 1) / zones) return "zone spread broken for " + g.first;
    }
  }
  if (std::abs(cost - plan.cost_per_hour) > 1e-5) return "cost_per_hour doesn't add up";
  if (plan.bound.cost_per_hour > plan.cost_per_hour + 1e-6) return "bound above cost";
  int listed = 0;
  for (const auto& g : plan.node_groups) {
    if (groups_seen[{g.type, g.zone}] != g.count) return "node group count wrong for " + g.name;
    listed += g.count;
  }
  if (listed != static_cast<int>(plan.nodes.size())) return "node groups don't cover the nodes";
  return std::nullopt;
}

double brute_force_optimum(const PlacementInput& input) {
  const int n = static_cast<int>(input.replicas.size());
  const int zones = static_cast<int>(input.zones.size());
  auto types = allowed(input);
  std::map<std::pair<std::string, std::string>, int> group_index;
  std::vector<int> group(n);
  for (int i = 0; i < n; ++i) {
    auto [it, _] = group_index.try_emplace({input.replicas[i].service, input.replicas[i].shard},
                                           static_cast<int>(group_index.size()));
    group[i] = it->second;
  }
  std::vector<int> size_of(group_index.size(), 0);
  for (int g : group) ++size_of[g];
  double best = -1;
  std::vector<int> block(n, 0);
  // Enumerate set partitions as restricted growth strings.
  std::function<void(int, int)> rec = [&](int i, int blocks) {
    if (i == n) {
      double cost = 0;
      for (int b = 0; b < blocks; ++b) {
        Resources load;
        std::set<int> gs;
        for (int r = 0; r < n; ++r) {
          if (block[r] != b) continue;
          if (!gs.insert(group[r]).second) return;
          load += input.replicas[r].size;
        }
        double cheapest = -1;
        for (const auto* t : types) {
          if (load.fits_in(allocatable(*t, input.allocatable)) && (cheapest < 0 || t->price_per_hour < cheapest)) {
            cheapest = t->price_per_hour;
          }
        }
        if (cheapest < 0) return;
        cost += cheapest;
      }
      if (best >= 0 && cost >= best - 1e-12) return;
      // Any zone assignment of the blocks that spreads every group?
      std::vector<int> zone(blocks, 0);
      while (true) {
        std::vector<std::vector<int>> count(size_of.size(), std::vector<int>(zones, 0));
        for (int r = 0; r < n; ++r) ++count[group[r]][zone[block[r]]];
        bool ok = true;
        for (size_t g = 0; g < size_of.size() && ok; ++g) {
          for (int z = 0; z < zones && ok; ++z) {
            ok = count[g][z] >= size_of[g] / zones && count[g][z] <= (size_of[g] + zones - 1) / zones;
          }
        }
        if (ok) {
          best = cost;
          return;
        }
        int k = 0;
        while (k < blocks && ++zone[k] == zones) zone[k++] = 0;
        if (k == blocks) return;
      }
    }
    for (int b = 0; b <= blocks; ++b) {
      block[i] = b;
      rec(i + 1, std::max(blocks, b + 1));
    }
  };
  rec(0, 0);
  return best;
}

PlacementInput random_instance(std::mt19937& rng, int replicas, int zones, std::vector<std::string> types) {
  PlacementInput in;
  in.mode = PlacementMode::kPacked;
  for (int z = 0; z < zones; ++z) in.zones.push_back("zone-" + std::string(1, static_cast<char>('a' + z)));
  in.instance_types = std::move(types);
  std::uniform_int_distribution<int> group_size(1, 3), cpu(1, 8), ratio(0, 2);
  int service = 0;
  // The roomiest allowed type bounds the sizes drawn, so every instance has a plan.
  Resources roomiest{0, 0};
  for (const auto& t : Catalogue::builtin().types()) {
    if (!in.instance_types.empty() &&
        std::find(in.instance_types.begin(), in.instance_types.end(), t.name) == in.instance_types.end()) {
      continue;
    }
    Resources room = allocatable(t, in.allocatable);
    roomiest.cpu_millis = std::max(roomiest.cpu_millis, room.cpu_millis);
    roomiest.memory_mib = std::max(roomiest.memory_mib, room.memory_mib);
  }
  while (static_cast<int>(in.replicas.size()) < replicas) {
    int size = std::min(group_size(rng), replicas - static_cast<int>(in.replicas.size()));
    int64_t c = 500 * cpu(rng);  // half-core steps: the dynamic-programme pricing keeps the tests fast
    int64_t m = c * (2 << ratio(rng)) * 1024 / 1000;  // 1:2, 1:4 or 1:8 GiB per core
    if (!Resources{c, m}.fits_in(roomiest)) continue;
    for (int k = 0; k < size; ++k) {
      in.replicas.push_back(ReplicaRequest{"r" + std::to_string(in.replicas.size()), "s" + std::to_string(service),
                                           "0", Resources{c, m}});
    }
    ++service;
  }
  return in;
}

}  // namespace byoc::plan::testing
