// resolve_neighbourhoods (packing/resolve.h): on random instances from a greedy start, the re-packed layout is
// feasible, never dearer, the same on every run, and leaves nodes holding pinned replicas as they were.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "plan/packing/feasibility.h"
#include "plan/packing/improve.h"
#include "plan/packing/resolve.h"
#include "plan/placement.h"
#include "plan_checks.h"

namespace byoc::plan::packing {
namespace {

Layout greedy_layout(const Problem& p) {
  Layout layout(p);
  std::vector<int> all(p.replicas.size());
  std::iota(all.begin(), all.end(), 0);
  insert_replicas(layout, all);
  return layout;
}

TEST(Resolve, FeasibleNeverDearerAndDeterministic) {
  std::mt19937 rng(61);
  PlannerOptions options;
  options.resolve_rounds = 4;
  int improved = 0;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    PlacementInput in = testing::random_instance(rng, 24 + 6 * round, 1 + round % 3, {});
    Problem p = make_problem(in, Catalogue::builtin());
    Layout start = greedy_layout(p);
    std::vector<double> no_value(p.replicas.size(), 0);
    Layout a = start, b = start;
    double saved = resolve_neighbourhoods(a, no_value, options);
    resolve_neighbourhoods(b, no_value, options);
    EXPECT_GE(saved, 0);
    EXPECT_NEAR(a.cost(), start.cost() - saved, 1e-9);
    EXPECT_EQ(find_violation(p, a.solution()), std::nullopt);
    EXPECT_NEAR(a.cost(), b.cost(), 1e-12);
    auto sa = a.solution(), sb = b.solution();
    ASSERT_EQ(sa.nodes.size(), sb.nodes.size());
    for (size_t n = 0; n < sa.nodes.size(); ++n) EXPECT_EQ(sa.nodes[n].replicas, sb.nodes[n].replicas);
    improved += saved > 1e-9;
  }
  // Plain cheapest insertion leaves room to gain on these sizes.
  EXPECT_GT(improved, 0);
}

TEST(Resolve, LeavesNodesWithPinnedReplicasAlone) {
  std::mt19937 rng(67);
  PlacementInput in = testing::random_instance(rng, 30, 3, {});
  Problem p = make_problem(in, Catalogue::builtin());
  Layout layout = greedy_layout(p);
  for (size_t r = 0; r < p.replicas.size(); ++r) layout.pin(static_cast<int>(r));
  Solution before = layout.solution();
  PlannerOptions options;
  EXPECT_DOUBLE_EQ(resolve_neighbourhoods(layout, std::vector<double>(p.replicas.size(), 0), options), 0.0);
  Solution after = layout.solution();
  ASSERT_EQ(before.nodes.size(), after.nodes.size());
  for (size_t n = 0; n < before.nodes.size(); ++n) {
    EXPECT_EQ(before.nodes[n].replicas, after.nodes[n].replicas);
    EXPECT_EQ(before.nodes[n].type, after.nodes[n].type);
  }
}

}  // namespace
}  // namespace byoc::plan::packing
