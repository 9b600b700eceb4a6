#include "plan/packing/column_generation.h"

#include <gtest/gtest.h>

#include <numeric>

#include "plan_checks.h"

namespace byoc::plan::packing {
namespace {

Problem problem_of(const PlacementInput& in) { return make_problem(in, Catalogue::builtin()); }

GilmoreGomory bound_of(const Problem& p) {
  std::vector<int> all(p.replicas.size());
  std::iota(all.begin(), all.end(), 0);
  return solve_gilmore_gomory(p, make_classes(p, all), {}, ColumnGenerationOptions{});
}

PlacementInput one_type(const std::string& type, int replicas, int per_group, Resources size) {
  PlacementInput in;
  in.zones = {"a"};
  in.instance_types = {type};
  for (int i = 0; i < replicas; ++i) {
    in.replicas.push_back(ReplicaRequest{"r" + std::to_string(i), "s" + std::to_string(i / per_group), "0", size});
  }
  return in;
}

TEST(GilmoreGomory, HalfNodeReplicasNeedHalfANodeEach) {
  // m7gd.large: 1930m / 7518 MiB; two of 900m / 3000 MiB fit, three don't.
  Problem p = problem_of(one_type("m7gd.large", 11, 1, Resources{900, 3000}));
  GilmoreGomory gg = bound_of(p);
  EXPECT_TRUE(gg.converged);
  EXPECT_NEAR(gg.lower_bound, 5.5 * 0.1068, 1e-9);
  EXPECT_NEAR(gg.lp_value, 5.5 * 0.1068, 1e-9);
}

TEST(GilmoreGomory, AntiAffinityIsInThePricing) {
  // The same eleven replicas as one shard group of 11: no two may share a node.
  Problem p = problem_of(one_type("m7gd.large", 11, 11, Resources{900, 3000}));
  GilmoreGomory gg = bound_of(p);
  EXPECT_TRUE(gg.converged);
  EXPECT_NEAR(gg.lower_bound, 11 * 0.1068, 1e-6);
  for (const auto& pat : gg.patterns) {
    for (auto [k, n] : pat.items) EXPECT_LE(n, gg.classes[k].max_per_node());
  }
}

TEST(GilmoreGomory, ClassesGroupEqualSizeAndReplicaCount) {
  PlacementInput in = one_type("m7gd.xlarge", 0, 1, Resources{});
  auto add = [&](const std::string& service, int count, Resources size) {
    for (int i = 0; i < count; ++i) {
      in.replicas.push_back(ReplicaRequest{service + std::to_string(i), service, "0", size});
    }
  };
  add("a", 2, Resources{1000, 4000});
  add("b", 2, Resources{1000, 4000});
  add("c", 3, Resources{1000, 4000});
  add("d", 2, Resources{500, 1000});
  Problem p = problem_of(in);
  std::vector<int> all(p.replicas.size());
  std::iota(all.begin(), all.end(), 0);
  auto classes = make_classes(p, all);
  ASSERT_EQ(classes.size(), 3u);
  int two_groups = 0;
  for (const auto& c : classes) {
    EXPECT_EQ(c.demand(), c.per_group * c.max_per_node());
    two_groups += c.max_per_node() == 2;
  }
  EXPECT_EQ(two_groups, 1);  // a and b share a class; c (3 replicas) and d (other size) don't
}

TEST(GilmoreGomory, NeverAboveTheOptimumOnRandomInstances) {
  std::mt19937 rng(11);
  for (int round = 0; round < 15; ++round) {
    PlacementInput in = testing::random_instance(rng, 4 + round % 4, 1 + round % 3,
                                                 {"m7gd.large", "m7gd.xlarge", "c7gd.2xlarge", "r7gd.large"});
    double optimum = testing::brute_force_optimum(in);
    GilmoreGomory gg = bound_of(problem_of(in));
    EXPECT_TRUE(gg.converged);
    EXPECT_GT(gg.lower_bound, 0);
    EXPECT_LE(gg.lower_bound, optimum + 1e-9) << "round " << round;
  }
}

}  // namespace
}  // namespace byoc::plan::packing
