// For the planner tests: plans `world` at `now` and folds the plan back into
// it, as the upgrade controller's transaction does.
#pragma once

#include <algorithm>
#include <string>

#include "controllers/upgrade_planner.h"

namespace byoc::controllers::test {

inline UpgradePlan plan_and_fold(UpgradeWorld& world, int64_t now, int& ids) {
  world.now = now;
  UpgradePlan p = plan_upgrades(world, [&ids] { return "upg-" + std::to_string(++ids); });
  for (const auto& u : p.upgrades) {
    auto it = std::find_if(world.upgrades.begin(), world.upgrades.end(), [&](auto& x) { return x.id == u.id; });
    if (it == world.upgrades.end()) world.upgrades.push_back(u);
    else *it = u;
  }
  for (const auto& s : p.services)
    for (auto& mine : world.services)
      if (mine.name == s.name) mine = s;
  return p;
}

}  // namespace byoc::controllers::test
