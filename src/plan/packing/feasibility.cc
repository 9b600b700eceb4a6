#include "plan/packing/feasibility.h"

#include <set>

#include "base/error.h"

namespace byoc::plan::packing {

std::optional<std::string> find_violation(const Problem& problem, const Solution& solution) {
  std::vector<int> seen(problem.replicas.size(), 0);
  std::vector<std::vector<int>> zone_counts(problem.groups.size(), std::vector<int>(problem.zones.size(), 0));
  for (size_t n = 0; n < solution.nodes.size(); ++n) {
    const Node& node = solution.nodes[n];
    std::string where = "node " + std::to_string(n);
    if (node.type < 0 || node.type >= static_cast<int>(problem.types.size())) return where + ": bad type";
    if (node.zone < 0 || node.zone >= problem.zone_count()) return where + ": bad zone";
    if (node.replicas.empty()) return where + ": empty";
    std::set<int> groups;
    Resources load;
    for (int r : node.replicas) {
      if (r < 0 || r >= static_cast<int>(problem.replicas.size())) return where + ": bad replica index";
      ++seen[r];
      load += problem.replicas[r].size;
      int g = problem.replicas[r].group;
      if (!groups.insert(g).second) {
        return where + ": two replicas of " + problem.groups[g].service + "/" + problem.groups[g].shard;
      }
      ++zone_counts[g][node.zone];
    }
    if (!load.fits_in(problem.types[node.type].room)) {
      return where + " (" + problem.types[node.type].name + "): load " + std::to_string(load.cpu_millis) + "m/" +
             std::to_string(load.memory_mib) + "MiB exceeds its allocatable";
    }
  }
  for (size_t r = 0; r < seen.size(); ++r) {
    if (seen[r] != 1) {
      return "replica " + problem.replicas[r].id + " placed " + std::to_string(seen[r]) + " times";
    }
  }
  for (size_t g = 0; g < problem.groups.size(); ++g) {
    for (int z = 0; z < problem.zone_count(); ++z) {
      int c = zone_counts[g][z];
      if (c < problem.groups[g].zone_min || c > problem.groups[g].zone_max) {
        return problem.groups[g].service + "/" + problem.groups[g].shard + " has " + std::to_string(c) +
               " replicas in zone " + problem.zones[z];
      }
    }
  }
  return std::nullopt;
}

void check_or_throw(const Problem& problem, const Solution& solution, const char* solver) {
  if (auto v = find_violation(problem, solution)) {
    throw Error::Internal(std::string("placement planner (") + solver + ") produced an invalid plan: " + *v);
  }
}

}  // namespace byoc::plan::packing
