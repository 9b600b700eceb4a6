// Ejection chains (packing/ejection.h): the chains a zone-blocked replica needs, pinned replicas left alone, and on
// random instances: feasible, never dearer than the start, same input same layout.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "plan/packing/ejection.h"
#include "plan/packing/feasibility.h"
#include "plan/packing/improve.h"
#include "plan/placement.h"
#include "plan_checks.h"

namespace byoc::plan::packing {
namespace {

// One node type (2 cores, 8000 MiB, $1/h) and two zones; replica A0 (small) and A1 (large) of one shard must sit
// in different zones, C0 and E are alone in their groups. E beside A0 leaves no room for C0.
Problem two_zone_problem() {
  Problem p;
  p.types = {NodeType{"t", Resources{2000, 8000}, 1.0}};
  p.zones = {"a", "b"};
  p.replicas = {Replica{"A0", 0, Resources{300, 1000}}, Replica{"A1", 0, Resources{1500, 4000}},
                Replica{"C0", 1, Resources{1400, 5000}}, Replica{"E", 2, Resources{400, 1000}}};
  p.groups = {Group{"A", "0", {0, 1}, zone_min_for(2, 2), zone_max_for(2, 2)},
              Group{"C", "0", {2}, zone_min_for(1, 2), zone_max_for(1, 2)},
              Group{"E", "0", {3}, zone_min_for(1, 2), zone_max_for(1, 2)}};
  return p;
}

constexpr int kA0 = 0, kA1 = 1, kC0 = 2, kE = 3;

// A0 and E on n1 in zone a, C0 on n2 in zone b: A1 fits neither node as it is.
struct BlockedLayout {
  BlockedLayout() {
    layout.place(kA0, n1);
    layout.place(kE, n1);
    layout.place(kC0, n2);
  }
  BlockedLayout(const BlockedLayout&) = delete;
  BlockedLayout& operator=(const BlockedLayout&) = delete;

  Problem p = two_zone_problem();
  Layout layout{p};
  int n1 = layout.add_node(0, 0);
  int n2 = layout.add_node(0, 1);
};

// A0 and E on a node in zone a, C0 in zone b with room for A0 only: A1 fits no node as it is (zone a holds A0,
// zone b lacks room), but swapping it in for A0 and moving A0 to zone b seats it.
TEST(Ejection, SeatsAReplicaItsZoneBlocksBySwappingTheGroupMate) {
  BlockedLayout b;
  auto& [p, layout, n1, n2] = b;
  ASSERT_FALSE(layout.can_place(kA1, n1));
  ASSERT_FALSE(layout.can_place(kA1, n2));
  EXPECT_EQ(place_by_ejection(layout, {kA1}), 1);
  EXPECT_EQ(layout.node_of(kA1), n1);
  EXPECT_EQ(layout.node_of(kA0), n2);
  EXPECT_DOUBLE_EQ(layout.cost(), 2.0);
  EXPECT_EQ(find_violation(p, layout.solution()), std::nullopt);
}

TEST(Ejection, NeverMovesAPinnedReplica) {
  BlockedLayout b;
  auto& [p, layout, n1, n2] = b;
  layout.pin(kA0);
  EXPECT_EQ(place_by_ejection(layout, {kA1}), 0);
  EXPECT_EQ(layout.node_of(kA1), -1);
  EXPECT_EQ(layout.node_of(kA0), n1);
  EXPECT_EQ(layout.node_of(kE), n1);
  EXPECT_EQ(layout.node_of(kC0), n2);
}

// A1 alone on a third node in zone b: no single move empties any of the three nodes; a chain empties one.
TEST(Ejection, EmptiesANodeTheSingleMovesCannot) {
  Problem p = two_zone_problem();
  Layout layout(p);
  int n1 = layout.add_node(0, 0);
  int n2 = layout.add_node(0, 1);
  int n3 = layout.add_node(0, 1);
  layout.place(kA0, n1);
  layout.place(kE, n1);
  layout.place(kC0, n2);
  layout.place(kA1, n3);
  Layout plain = layout;
  EXPECT_DOUBLE_EQ(eliminate_nodes(plain), 0.0);  // moving replicas one at a time empties nothing
  EXPECT_DOUBLE_EQ(empty_by_ejection(layout), 1.0);
  EXPECT_DOUBLE_EQ(layout.cost(), 2.0);
  EXPECT_EQ(find_violation(p, layout.solution()), std::nullopt);
}

// The start: every replica by cheapest insertion, then the local improvement.
Layout greedy_layout(const Problem& p) {
  Layout layout(p);
  std::vector<int> all(p.replicas.size());
  std::iota(all.begin(), all.end(), 0);
  insert_replicas(layout, all);
  improve(layout);
  return layout;
}

bool same_layout(const Layout& a, const Layout& b) {
  if (a.node_count() != b.node_count()) return false;
  for (int n = 0; n < a.node_count(); ++n) {
    if (a.node(n).type != b.node(n).type || a.node(n).zone != b.node(n).zone ||
        a.node(n).replicas != b.node(n).replicas) {
      return false;
    }
  }
  return true;
}

TEST(Ejection, EmptyingIsFeasibleNeverDearerAndDeterministic) {
  std::mt19937 rng(41);
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    PlacementInput in = testing::random_instance(rng, 20 + 10 * round, 1 + round % 3, {});
    Problem p = make_problem(in, Catalogue::builtin());
    Layout start = greedy_layout(p);
    Layout a = start, b = start;
    double saved = empty_by_ejection(a);
    empty_by_ejection(b);
    EXPECT_GE(saved, 0);
    EXPECT_NEAR(a.cost(), start.cost() - saved, 1e-9);
    EXPECT_EQ(find_violation(p, a.solution()), std::nullopt);
    EXPECT_TRUE(same_layout(a, b));
  }
}

TEST(Ejection, ReseatingNeverOpensNodesAndKeepsTheRules) {
  std::mt19937 rng(43);
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    PlacementInput in = testing::random_instance(rng, 30 + 10 * round, 1 + round % 3, {});
    Problem p = make_problem(in, Catalogue::builtin());
    Layout layout = greedy_layout(p);
    // Take off every third replica; the chains seat what they can into the room that leaves.
    std::vector<int> off;
    for (size_t r = 0; r < p.replicas.size(); r += 3) {
      off.push_back(static_cast<int>(r));
      layout.remove(static_cast<int>(r));
    }
    const double cost = layout.cost();
    Layout again = layout;
    int seated = place_by_ejection(layout, off);
    EXPECT_EQ(place_by_ejection(again, off), seated);
    EXPECT_TRUE(same_layout(layout, again));
    int placed = 0;
    for (int r : off) placed += layout.node_of(r) >= 0;
    EXPECT_EQ(placed, seated);
    EXPECT_NEAR(layout.cost(), cost, 1e-9);  // no node opened, retyped or emptied
    insert_unplaced(layout);
    EXPECT_EQ(find_violation(p, layout.solution()), std::nullopt);
  }
}

}  // namespace
}  // namespace byoc::plan::packing
