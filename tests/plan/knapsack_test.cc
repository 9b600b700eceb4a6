#include "plan/packing/knapsack.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace byoc::plan::packing {
namespace {

double brute(const std::vector<KnapsackItem>& items, const Resources& room) {
  double best = 0;
  std::function<void(size_t, Resources, double)> rec = [&](size_t i, Resources left, double value) {
    if (i == items.size()) {
      best = std::max(best, value);
      return;
    }
    for (int c = 0; c <= items[i].max_count; ++c) {
      Resources use{items[i].size.cpu_millis * c, items[i].size.memory_mib * c};
      if (!use.fits_in(left)) break;
      rec(i + 1, left - use, value + items[i].value * c);
    }
  };
  rec(0, room, 0);
  return best;
}

TEST(Knapsack, BranchAndBoundAndDynamicProgrammeAreExact) {
  std::mt19937 rng(17);
  for (int round = 0; round < 200; ++round) {
    Resources room{1000 * static_cast<int64_t>(1 + rng() % 16), 1024 * static_cast<int64_t>(2 + rng() % 60)};
    std::vector<KnapsackItem> items;
    int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      items.push_back(KnapsackItem{Resources{250 * static_cast<int64_t>(1 + rng() % 16),
                                             256 * static_cast<int64_t>(1 + rng() % 64)},
                                   static_cast<int>(1 + rng() % 4), 0.01 * static_cast<double>(1 + rng() % 100)});
    }
    double want = brute(items, room);
    KnapsackResult bb = solve_knapsack_2d(items, room);
    ASSERT_TRUE(bb.proven);
    EXPECT_NEAR(bb.value, want, 1e-9) << "round " << round;
    std::optional<KnapsackResult> dp = solve_knapsack_2d_dp(items, room);
    ASSERT_TRUE(dp.has_value());
    EXPECT_NEAR(dp->value, want, 1e-9) << "round " << round;
    // The counts are a feasible choice worth the value.
    for (const auto* r : {&bb, &*dp}) {
      Resources load;
      double value = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        ASSERT_LE(r->counts[i], items[i].max_count);
        load += Resources{items[i].size.cpu_millis * r->counts[i], items[i].size.memory_mib * r->counts[i]};
        value += items[i].value * r->counts[i];
      }
      EXPECT_TRUE(load.fits_in(room));
      EXPECT_NEAR(value, r->value, 1e-9);
    }
  }
}

TEST(Knapsack, TargetPrunesAndStillBoundsTheOptimum) {
  std::vector<KnapsackItem> items{{Resources{1000, 4096}, 3, 0.05}, {Resources{500, 1024}, 4, 0.02}};
  Resources room{3000, 8192};
  double want = brute(items, room);
  KnapsackResult r = solve_knapsack_2d(items, room, want + 1);  // nothing is worth the target
  EXPECT_TRUE(r.proven);
  EXPECT_GE(r.upper_bound, want);
}

}  // namespace
}  // namespace byoc::plan::packing
