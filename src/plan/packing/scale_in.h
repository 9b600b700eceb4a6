// solve_scale_in: re-places a running plan after its replicas changed size (or count), moving at most K replicas.
//
// 1. Forced moves: replicas whose node is no longer allowed (type or zone), no longer holds them, or breaks the
//    anti-affinity or zone-spread rules with the new replica counts, leave it (largest first). Fewer than K of
//    these or the request fails.
// 2. Candidates: keep every other node and place the forced and new replicas into free room and new nodes; or
//    release more nodes — those that overpay most per replica, valued at the duals of the fresh Gilmore–Gomory LP
//    (what a replica of each class is worth) — and re-pack their replicas with the packed heuristic (one replica
//    per node in `dedicated` mode), for a few release budgets up to K, including releasing everything.
// 3. New nodes of the same type and zone as a released node are matched to it (largest overlap first), so
//    replicas that end up on their old node don't count as migrations.
// The cheapest candidate within K wins. Its bound is that of the fresh problem (no migration limit).
//
// Not thread-safe (GLPK); no state between calls.
#pragma once

#include <vector>

#include "plan/packing/problem.h"

namespace byoc::plan::packing {

struct CurrentNode {
  int type = -1;  // index in Problem::types; -1 when the type is no longer allowed or usable
  int zone = -1;  // -1 when the zone is no longer listed
  double price = 0;
  std::vector<int> replicas;  // indices in Problem::replicas (replicas gone from the input are left out)
};

struct ScaleInResult {
  Solution solution;
  std::vector<int> migrated;  // replicas that changed node
  double lower_bound = 0;
  bool bound_exact = false;
};

// max_migrations < 0: no limit. Throws byoc::Error (invalid) "max_migrations_too_small".
ScaleInResult solve_scale_in(const Problem& problem, const std::vector<CurrentNode>& current, int max_migrations,
                             PlacementMode mode, const PlannerOptions& options);

}  // namespace byoc::plan::packing
