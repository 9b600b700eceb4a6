#include "plan/packing/dedicated.h"

#include <algorithm>
#include <numeric>

namespace byoc::plan::packing {

Solution solve_dedicated(const Problem& problem) {
  Solution s;
  std::vector<int> nodes_per_zone(problem.zones.size(), 0);
  for (const Group& g : problem.groups) {
    std::vector<int> zones(problem.zones.size());
    std::iota(zones.begin(), zones.end(), 0);
    std::stable_sort(zones.begin(), zones.end(), [&](int a, int b) { return nodes_per_zone[a] < nodes_per_zone[b]; });
    for (size_t i = 0; i < g.replicas.size(); ++i) {
      int r = g.replicas[i];
      int zone = zones[i % zones.size()];
      s.nodes.push_back(Node{problem.cheapest_fit(problem.replicas[r].size), zone, {r}, -1});
      ++nodes_per_zone[zone];
    }
  }
  return s;
}

}  // namespace byoc::plan::packing
