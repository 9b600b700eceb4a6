#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/error.h"
#include "plan/placement.h"
#include "plan_checks.h"

namespace byoc::plan {
namespace {

using testing::plan_violation;
using testing::random_instance;

CurrentPlan as_current(const PlacementPlan& plan) { return CurrentPlan{plan.nodes}; }

PlacementInput halved(PlacementInput in) {
  for (size_t i = 0; i < in.replicas.size(); i += 2) {
    in.replicas[i].size.cpu_millis = std::max<int64_t>(100, in.replicas[i].size.cpu_millis / 2);
    in.replicas[i].size.memory_mib = std::max<int64_t>(128, in.replicas[i].size.memory_mib / 2);
  }
  return in;
}

std::set<std::string> moved(const PlacementPlan& before, const PlacementPlan& after) {
  // Replicas whose node (type, zone, and the replicas that stayed with them) changed can't be read off the plans
  // alone, so check the weaker property: a replica not listed as migrated sits on a node of its old type and zone.
  std::set<std::string> out;
  std::map<std::string, std::pair<std::string, std::string>> where;
  for (const auto& n : before.nodes) {
    for (const auto& r : n.replicas) where[r] = {n.type, n.zone};
  }
  for (const auto& n : after.nodes) {
    for (const auto& r : n.replicas) {
      auto it = where.find(r);
      if (it != where.end() && it->second != std::make_pair(n.type, n.zone)) out.insert(r);
    }
  }
  return out;
}

TEST(ScaleIn, NoLimitGetsCloseToAFreshPlan) {
  std::mt19937 rng(3);
  PlacementInput before = random_instance(rng, 60, 3, {});
  PlacementPlan current = plan_placement(before, Catalogue::builtin());
  PlacementInput after = halved(before);
  PlacementPlan re = plan_scale_in(after, as_current(current), -1, Catalogue::builtin());
  ASSERT_EQ(plan_violation(after, re), std::nullopt);
  ASSERT_TRUE(re.migrations && re.saving_per_hour);
  EXPECT_LT(re.cost_per_hour, current.cost_per_hour);
  EXPECT_NEAR(*re.saving_per_hour, current.cost_per_hour - re.cost_per_hour, 1e-6);
  // A small fleet (a dozen nodes): one node of integrality gap is several percent; the benchmark measures the
  // ratio on realistic sizes.
  EXPECT_LE(re.cost_per_hour, 1.10 * re.bound.cost_per_hour);
  std::set<std::string> listed(re.migrations->begin(), re.migrations->end());
  for (const auto& id : moved(current, re)) EXPECT_TRUE(listed.count(id)) << id << " moved but is not listed";
}

TEST(ScaleIn, RespectsTheMigrationLimit) {
  std::mt19937 rng(4);
  PlacementInput before = random_instance(rng, 40, 3, {});
  PlacementPlan current = plan_placement(before, Catalogue::builtin());
  PlacementInput after = halved(before);
  double previous = current.cost_per_hour + 1e-9;
  for (int k : {0, 2, 5, 10, 40}) {
    PlacementPlan re = plan_scale_in(after, as_current(current), k, Catalogue::builtin());
    SCOPED_TRACE("K=" + std::to_string(k));
    ASSERT_EQ(plan_violation(after, re), std::nullopt);
    EXPECT_LE(static_cast<int>(re.migrations->size()), k);
    EXPECT_LE(re.cost_per_hour, current.cost_per_hour + 1e-9);
    EXPECT_GE(*re.saving_per_hour, -1e-9);
    std::set<std::string> listed(re.migrations->begin(), re.migrations->end());
    for (const auto& id : moved(current, re)) EXPECT_TRUE(listed.count(id)) << id;
    if (k == 0) {
      EXPECT_NEAR(re.cost_per_hour, current.cost_per_hour, 1e-6);  // nothing may move, nothing to drop
    }
    previous = std::min(previous, re.cost_per_hour);
  }
  EXPECT_LT(previous, current.cost_per_hour);
}

TEST(ScaleIn, DedicatedDownsizesTheBiggestSavingsFirst) {
  PlacementInput in;
  in.mode = PlacementMode::kDedicated;
  in.zones = {"a", "b"};
  in.instance_types = {"m7gd.large", "m7gd.xlarge", "m7gd.2xlarge"};
  auto add = [&](const std::string& id, int64_t cpu, int64_t mem) {
    in.replicas.push_back(ReplicaRequest{id, id, "0", Resources{cpu, mem}});
  };
  add("big", 7000, 30000);  // 2xlarge
  add("mid", 3500, 14000);  // xlarge
  PlacementPlan current = plan_placement(in, Catalogue::builtin());
  in.replicas[0].size = Resources{1500, 6000};  // now fits large: saves 0.4271 - 0.1068
  in.replicas[1].size = Resources{1500, 6000};  // saves 0.2136 - 0.1068
  PlacementPlan one = plan_scale_in(in, as_current(current), 1, Catalogue::builtin());
  ASSERT_EQ(plan_violation(in, one), std::nullopt);
  EXPECT_EQ(*one.migrations, std::vector<std::string>{"big"});
  EXPECT_NEAR(*one.saving_per_hour, 0.4271 - 0.1068, 1e-6);
  PlacementPlan all = plan_scale_in(in, as_current(current), -1, Catalogue::builtin());
  EXPECT_EQ(all.migrations->size(), 2u);
  EXPECT_NEAR(all.cost_per_hour, 2 * 0.1068, 1e-6);
  EXPECT_EQ(all.bound.kind, BoundKind::kExact);
}

TEST(ScaleIn, GrownReplicasMustMoveAndNewOnesAreNotMigrations) {
  PlacementInput in;
  in.mode = PlacementMode::kPacked;
  in.zones = {"a"};
  in.instance_types = {"m7gd.large"};
  in.replicas = {ReplicaRequest{"x", "x", "0", Resources{900, 3000}}, ReplicaRequest{"y", "y", "0", Resources{900, 3000}}};
  PlacementPlan current = plan_placement(in, Catalogue::builtin());
  ASSERT_EQ(current.nodes.size(), 1u);
  in.replicas[1].size = Resources{1500, 3000};  // x + y no longer fit one node
  in.replicas.push_back(ReplicaRequest{"z", "z", "0", Resources{400, 1000}});
  try {
    plan_scale_in(in, as_current(current), 0, Catalogue::builtin());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "max_migrations_too_small");
    EXPECT_EQ(e.field(), "max_migrations");
  }
  PlacementPlan re = plan_scale_in(in, as_current(current), 1, Catalogue::builtin());
  ASSERT_EQ(plan_violation(in, re), std::nullopt);
  ASSERT_EQ(re.migrations->size(), 1u);
  EXPECT_NE((*re.migrations)[0], "z");  // one of x and y leaves their node; z is new, not a migration
}

TEST(ScaleIn, RemovedReplicasAndRetiredTypesOrZones) {
  std::mt19937 rng(8);
  PlacementInput before = random_instance(rng, 30, 3, {});
  PlacementPlan current = plan_placement(before, Catalogue::builtin());
  PlacementInput after = before;
  after.replicas.resize(20);
  after.zones.pop_back();  // zone-c retired: its replicas must move
  PlacementPlan re = plan_scale_in(after, as_current(current), -1, Catalogue::builtin());
  ASSERT_EQ(plan_violation(after, re), std::nullopt);
  for (const auto& n : current.nodes) {
    if (n.zone != "zone-c") continue;
    for (const auto& id : n.replicas) {
      bool still = false;
      for (const auto& r : after.replicas) still = still || r.id == id;
      if (still) {
        EXPECT_NE(std::find(re.migrations->begin(), re.migrations->end(), id), re.migrations->end()) << id;
      }
    }
  }
  CurrentPlan bad = as_current(current);
  bad.nodes[0].type = "m9.mega";
  try {
    plan_scale_in(after, bad, -1, Catalogue::builtin());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "current.nodes[0].type");
  }
  bad = as_current(current);
  bad.nodes[1].replicas.push_back(bad.nodes[0].replicas[0]);
  EXPECT_THROW(plan_scale_in(after, bad, -1, Catalogue::builtin()), Error);
}

}  // namespace
}  // namespace byoc::plan
