#include "plan/packing/problem.h"

#include <algorithm>
#include <map>

#include "base/error.h"

namespace byoc::plan::packing {

int zone_min_for(int replicas, int zones) { return replicas / zones; }
int zone_max_for(int replicas, int zones) { return (replicas + zones - 1) / zones; }

int Problem::cheapest_fit(const Resources& need) const {
  for (size_t t = 0; t < types.size(); ++t) {
    if (need.fits_in(types[t].room)) return static_cast<int>(t);
  }
  return -1;
}

double Solution::cost(const Problem& problem) const {
  double total = 0;
  for (const auto& n : nodes) total += problem.types[n.type].price;
  return total;
}

Resources load_of(const Problem& problem, const Node& node) {
  Resources load;
  for (int r : node.replicas) load += problem.replicas[r].size;
  return load;
}

Problem make_problem(const PlacementInput& input, const Catalogue& catalogue) {
  Problem p;
  p.zones = input.zones;
  if (p.zones.empty()) throw Error::Invalid("invalid_zones", "at least one zone is needed", "zones");
  std::vector<const InstanceType*> allowed;
  if (input.instance_types.empty()) {
    for (const auto& t : catalogue.types()) allowed.push_back(&t);
  } else {
    for (size_t i = 0; i < input.instance_types.size(); ++i) {
      const InstanceType* t = catalogue.find(input.instance_types[i]);
      if (!t) {
        throw Error::Invalid("unknown_instance_type",
                             "no instance type '" + input.instance_types[i] + "' in the catalogue",
                             "instance_types[" + std::to_string(i) + "]");
      }
      if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) allowed.push_back(t);
    }
  }
  for (const auto* t : allowed) {
    Resources room = allocatable(*t, input.allocatable);
    if (room.cpu_millis <= 0 || room.memory_mib <= 0) continue;
    p.types.push_back(NodeType{t->name, room, t->price_per_hour});
  }
  if (p.types.empty()) {
    throw Error::Invalid("no_usable_instance_type",
                         "the daemonset requests leave no room on any allowed instance type", "daemonsets");
  }
  // Cheapest first; among equal prices the roomier type first, so cheapest_fit never picks a dominated twin.
  std::stable_sort(p.types.begin(), p.types.end(), [](const NodeType& a, const NodeType& b) {
    if (a.price != b.price) return a.price < b.price;
    return a.room.cpu_millis + a.room.memory_mib > b.room.cpu_millis + b.room.memory_mib;
  });

  std::map<std::pair<std::string, std::string>, int> group_of;
  for (size_t i = 0; i < input.replicas.size(); ++i) {
    const auto& r = input.replicas[i];
    if (p.cheapest_fit(r.size) < 0) {
      throw Error::Invalid("replica_too_large",
                           "replica '" + r.id + "' (" + std::to_string(r.size.cpu_millis) + "m, " +
                               std::to_string(r.size.memory_mib) + " MiB) fits no allowed instance type",
                           "replicas[" + std::to_string(i) + "]");
    }
    auto [it, inserted] = group_of.try_emplace({r.service, r.shard}, static_cast<int>(p.groups.size()));
    if (inserted) p.groups.push_back(Group{r.service, r.shard, {}, 0, 1});
    p.groups[it->second].replicas.push_back(static_cast<int>(i));
    p.replicas.push_back(Replica{r.id, it->second, r.size});
  }
  for (auto& g : p.groups) {
    int r = static_cast<int>(g.replicas.size());
    g.zone_min = zone_min_for(r, p.zone_count());
    g.zone_max = zone_max_for(r, p.zone_count());
  }
  return p;
}

}  // namespace byoc::plan::packing
