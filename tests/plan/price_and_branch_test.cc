// The packed heuristic's price-and-branch path: the zone-free integer master, the zone choice for its nodes and
// the zoned master; and the heuristic as a whole with the exact MIP switched off, against brute force.
#include <gtest/gtest.h>

#include <numeric>

#include "plan/packing/assignment.h"
#include "plan/packing/column_generation.h"
#include "plan/packing/feasibility.h"
#include "plan/packing/improve.h"
#include "plan/packing/integer_master.h"
#include "plan/packing/zoned_master.h"
#include "plan/placement.h"
#include "plan_checks.h"

namespace byoc::plan::packing {
namespace {

using testing::brute_force_optimum;
using testing::plan_violation;
using testing::random_instance;

GilmoreGomory column_generation(const Problem& p) {
  std::vector<int> all(p.replicas.size());
  std::iota(all.begin(), all.end(), 0);
  return solve_gilmore_gomory(p, make_classes(p, all), {}, ColumnGenerationOptions{});
}

double cost_of(const Problem& p, const GilmoreGomory& gg, const std::vector<int>& counts) {
  double cost = 0;
  for (size_t i = 0; i < counts.size(); ++i) cost += counts[i] * p.types[gg.patterns[i].type].price;
  return cost;
}

TEST(IntegerMaster, SolutionsCoverTheDemandAndCostNoLessThanTheBound) {
  std::mt19937 rng(11);
  for (int round = 0; round < 6; ++round) {
    PlacementInput in = random_instance(rng, 20 + 6 * round, 3, {});
    Problem p = make_problem(in, Catalogue::builtin());
    GilmoreGomory gg = column_generation(p);
    IntegerMasterLimits limits;
    limits.max_nodes = 300;
    auto solutions = solve_integer_master(p, gg, {}, limits);
    ASSERT_FALSE(solutions.empty());
    double previous = 0;
    for (const auto& counts : solutions) {
      std::vector<int> covered(gg.classes.size(), 0);
      for (size_t i = 0; i < counts.size(); ++i) {
        ASSERT_GE(counts[i], 0);
        for (auto [k, n] : gg.patterns[i].items) covered[k] += n * counts[i];
      }
      for (size_t k = 0; k < gg.classes.size(); ++k) EXPECT_GE(covered[k], gg.classes[k].demand());
      double cost = cost_of(p, gg, counts);
      EXPECT_GE(cost, gg.lower_bound - 1e-6);
      EXPECT_GE(cost, previous - 1e-9);  // cheapest first
      previous = cost;
    }
    // Never dearer than rounding the LP up, which is where the search starts.
    std::vector<int> ceiling(gg.patterns.size());
    for (size_t i = 0; i < ceiling.size(); ++i) ceiling[i] = static_cast<int>(std::ceil(gg.x[i] - 1e-9));
    EXPECT_LE(cost_of(p, gg, solutions.front()), cost_of(p, gg, ceiling) + 1e-9);
  }
}

// Three one-replica-per-node nodes for a shard of three over three zones: only distinct zones place them all.
TEST(ChooseZones, PutsAShardOfThreeInThreeZones) {
  PlacementInput in;
  in.zones = {"a", "b", "c"};
  in.instance_types = {"m7gd.large"};
  for (int i = 0; i < 3; ++i) in.replicas.push_back(ReplicaRequest{"x" + std::to_string(i), "s", "0", {1500, 6000}});
  Problem p = make_problem(in, Catalogue::builtin());
  GilmoreGomory gg = column_generation(p);
  ASSERT_EQ(gg.classes.size(), 1u);
  std::vector<Pattern> nodes(3, Pattern{0, {{0, 1}}});
  std::vector<int> zones = choose_zones(Layout(p), gg.classes, gg.duals, nodes, IntegerMasterLimits{});
  ASSERT_EQ(zones.size(), 3u);
  std::sort(zones.begin(), zones.end());
  EXPECT_EQ(zones, (std::vector<int>{0, 1, 2}));
  Layout layout(p);
  assign_patterns(layout, gg.classes, nodes, zones);
  for (int r = 0; r < 3; ++r) EXPECT_GE(layout.node_of(r), 0);
  EXPECT_EQ(find_violation(p, layout.solution()), std::nullopt);
}

TEST(ZonedMaster, NeverDearerThanItsStartAndRealisable) {
  std::mt19937 rng(23);
  for (int round = 0; round < 4; ++round) {
    PlacementInput in = random_instance(rng, 20 + 8 * round, 3, {});
    Problem p = make_problem(in, Catalogue::builtin());
    GilmoreGomory gg = column_generation(p);
    Layout greedy(p);
    std::vector<int> all(p.replicas.size());
    std::iota(all.begin(), all.end(), 0);
    insert_replicas(greedy, all);
    std::vector<ZonedNode> start = zoned_nodes_of(Layout(p), greedy, gg.classes);
    ASSERT_FALSE(start.empty());
    std::vector<Pattern> contents;
    for (size_t i = 0; i < gg.patterns.size(); ++i) {
      if (gg.x[i] > 1e-6) contents.push_back(gg.patterns[i]);
    }
    IntegerMasterLimits limits;
    limits.max_nodes = 300;
    auto nodes = solve_zoned_master(Layout(p), gg.classes, contents, start, limits);
    ASSERT_TRUE(nodes.has_value());
    double cost = 0;
    std::vector<Pattern> opens;
    std::vector<int> zones;
    for (const auto& n : *nodes) {
      cost += p.types[n.pattern.type].price;
      opens.push_back(n.pattern);
      zones.push_back(n.zone);
    }
    EXPECT_LE(cost, greedy.cost() + 1e-9);
    EXPECT_GE(cost, gg.lower_bound - 1e-6);
    // The zones it chose hold every replica.
    Layout layout(p);
    assign_patterns(layout, gg.classes, opens, zones);
    int unplaced = 0;
    for (size_t r = 0; r < p.replicas.size(); ++r) unplaced += layout.node_of(static_cast<int>(r)) < 0;
    EXPECT_EQ(unplaced, 0);
    EXPECT_EQ(find_violation(p, layout.solution()), std::nullopt);
  }
}

// The heuristic alone (no exact MIP) on instances brute force can solve.
TEST(PackedHeuristic, SmallInstancesMatchBruteForceAndTheBoundStaysBelow) {
  std::mt19937 rng(77);
  PlannerOptions heuristic_only;
  heuristic_only.exact_max_replicas = 0;
  int matched = 0;
  const int rounds = 30;
  for (int round = 0; round < rounds; ++round) {
    int n = 3 + round % 5;  // 3..7 replicas
    PlacementInput in =
        random_instance(rng, n, 1 + round % 3, {"m7gd.large", "m7gd.xlarge", "c7gd.xlarge", "r7gd.large", "r7gd.xlarge"});
    SCOPED_TRACE("round " + std::to_string(round));
    double optimum = brute_force_optimum(in);
    ASSERT_GT(optimum, 0);
    PlacementPlan plan = plan_placement(in, Catalogue::builtin(), heuristic_only);
    ASSERT_EQ(plan_violation(in, plan), std::nullopt);
    EXPECT_LE(plan.bound.cost_per_hour, optimum + 1e-6);
    EXPECT_GE(plan.cost_per_hour, optimum - 1e-6);
    matched += std::abs(plan.cost_per_hour - optimum) < 1e-6;
  }
  EXPECT_EQ(matched, rounds);
}

TEST(PackedHeuristic, SameInputSamePlan) {
  // Work limits, not time limits: two runs agree node for node.
  std::mt19937 rng(5);
  PlacementInput in = random_instance(rng, 60, 3, {});
  PlacementPlan a = plan_placement(in, Catalogue::builtin());
  PlacementPlan b = plan_placement(in, Catalogue::builtin());
  ASSERT_EQ(plan_violation(in, a), std::nullopt);
  EXPECT_EQ(a.cost_per_hour, b.cost_per_hour);
  EXPECT_EQ(a.bound.cost_per_hour, b.bound.cost_per_hour);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].type, b.nodes[i].type);
    EXPECT_EQ(a.nodes[i].zone, b.nodes[i].zone);
    EXPECT_EQ(a.nodes[i].replicas, b.nodes[i].replicas);
  }
}

}  // namespace
}  // namespace byoc::plan::packing
