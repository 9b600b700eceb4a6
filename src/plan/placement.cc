#include "plan/placement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "base/error.h"
#include "plan/packing/dedicated.h"
#include "plan/packing/feasibility.h"
#include "plan/packing/packed.h"
#include "plan/packing/problem.h"
#include "plan/packing/scale_in.h"
#include "plan/profiles.h"

namespace byoc::plan {

std::string_view to_string(PlacementMode mode) { return mode == PlacementMode::kDedicated ? "dedicated" : "packed"; }

std::string_view to_string(BoundKind kind) { return kind == BoundKind::kExact ? "exact" : "gilmore-gomory"; }

namespace {

// Prices are given to 4 decimals; sums keep 6 so they print without binary noise.
double money(double value) { return std::round(value * 1e6) / 1e6; }

PlacementPlan to_plan(const packing::Problem& problem, const packing::Solution& solution, CostBound bound) {
  PlacementPlan plan;
  plan.cost_per_hour = money(solution.cost(problem));
  bound.cost_per_hour = money(bound.cost_per_hour);
  plan.bound = bound;
  std::map<std::pair<std::string, std::string>, int> groups;
  for (const auto& node : solution.nodes) {
    PlannedNode out{problem.types[node.type].name, problem.zones[node.zone], {}};
    for (int r : node.replicas) out.replicas.push_back(problem.replicas[r].id);
    std::sort(out.replicas.begin(), out.replicas.end());
    ++groups[{out.type, out.zone}];
    plan.nodes.push_back(std::move(out));
  }
  std::stable_sort(plan.nodes.begin(), plan.nodes.end(), [](const PlannedNode& a, const PlannedNode& b) {
    return std::tie(a.type, a.zone, a.replicas) < std::tie(b.type, b.zone, b.replicas);
  });
  for (const auto& [key, count] : groups) {
    plan.node_groups.push_back(NodeGroupCount{node_group_name(key.first) + "-" + key.second, key.first, key.second,
                                              count});
  }
  return plan;
}

}  // namespace

PlacementPlan plan_placement(const PlacementInput& input, const Catalogue& catalogue, const PlannerOptions& options) {
  packing::Problem problem = packing::make_problem(input, catalogue);
  if (input.mode == PlacementMode::kDedicated) {
    packing::Solution s = packing::solve_dedicated(problem);
    packing::check_or_throw(problem, s, "dedicated");
    return to_plan(problem, s, CostBound{BoundKind::kExact, s.cost(problem)});
  }
  packing::PackedResult r = packing::solve_packed(problem, options);
  return to_plan(problem, r.solution,
                 CostBound{r.optimal ? BoundKind::kExact : BoundKind::kGilmoreGomory, r.lower_bound});
}

PlacementPlan plan_scale_in(const PlacementInput& input, const CurrentPlan& current, int max_migrations,
                            const Catalogue& catalogue, const PlannerOptions& options) {
  packing::Problem problem = packing::make_problem(input, catalogue);
  std::unordered_map<std::string, int> index;
  for (size_t r = 0; r < problem.replicas.size(); ++r) index[problem.replicas[r].id] = static_cast<int>(r);
  std::unordered_map<std::string, int> seen;
  std::vector<packing::CurrentNode> nodes;
  double current_cost = 0;
  for (size_t i = 0; i < current.nodes.size(); ++i) {
    const PlannedNode& in = current.nodes[i];
    std::string field = "current.nodes[" + std::to_string(i) + "]";
    const InstanceType* type = catalogue.find(in.type);
    if (!type) {
      throw Error::Invalid("unknown_instance_type", "no instance type '" + in.type + "' in the catalogue",
                           field + ".type");
    }
    packing::CurrentNode node;
    node.price = type->price_per_hour;
    current_cost += node.price;
    for (size_t t = 0; t < problem.types.size(); ++t) {
      if (problem.types[t].name == in.type) node.type = static_cast<int>(t);
    }
    for (size_t z = 0; z < problem.zones.size(); ++z) {
      if (problem.zones[z] == in.zone) node.zone = static_cast<int>(z);
    }
    for (size_t j = 0; j < in.replicas.size(); ++j) {
      const std::string& id = in.replicas[j];
      if (!seen.emplace(id, static_cast<int>(i)).second) {
        throw Error::Invalid("duplicate_replica", "replica '" + id + "' is on two nodes of the current plan",
                             field + ".replicas[" + std::to_string(j) + "]");
      }
      auto it = index.find(id);
      if (it != index.end()) node.replicas.push_back(it->second);
    }
    nodes.push_back(std::move(node));
  }
  packing::ScaleInResult r = packing::solve_scale_in(problem, nodes, max_migrations, input.mode, options);
  PlacementPlan plan = to_plan(problem, r.solution,
                               CostBound{r.bound_exact ? BoundKind::kExact : BoundKind::kGilmoreGomory, r.lower_bound});
  std::vector<std::string> migrated;
  for (int m : r.migrated) migrated.push_back(problem.replicas[m].id);
  std::sort(migrated.begin(), migrated.end());
  plan.migrations = std::move(migrated);
  plan.saving_per_hour = money(current_cost - plan.cost_per_hour);
  return plan;
}

}  // namespace byoc::plan
