// Ejection chains: zone-aware repair and node elimination without buying nodes.
//
// After the rounding heuristics turn a zone-free integer solution into zoned nodes, a few replicas usually find no
// node: where there is room, the zone spread or anti-affinity forbids them, and where the rules allow them there
// is no room. The cheapest-insertion repair then pays for a node. Often a short chain of moves seats them for
// free: put the replica on a node with room after taking off one of its replicas (or the group-mate whose zone
// blocks it), then seat the one taken off the same way, up to `depth` levels. Chains never open, upgrade or
// retype a node and never move a pinned replica, so the layout's cost never rises and every rule keeps holding.
//
// - place_by_ejection: seats unplaced replicas by such chains; the ones that find none stay unplaced.
// - empty_by_ejection: for each node, least used first, moves all its replicas elsewhere by chains (the node
//   goes) — those that find no chain onto upgraded nodes when the upgrades cost less than the node — or failing
//   that moves enough of them by chains that the node fits a cheaper type. Never raises the cost.
//
// Deterministic: the search counts node visits against a budget (EjectionLimits), never the clock. Not
// thread-safe (edits the Layout).
#pragma once

#include <cstdint>
#include <vector>

#include "plan/packing/layout.h"

namespace byoc::plan::packing {

struct EjectionLimits {
  int depth = 2;                          // replicas moved per chain, beyond the one being seated
  int64_t visits_per_replica = 200000;    // node visits one replica's chain search may take
  int64_t visits_total = 30000000;        // node visits one call may take
};

// Returns how many of `replicas` (unplaced) it seated. The rest stay unplaced.
int place_by_ejection(Layout& layout, const std::vector<int>& replicas, const EjectionLimits& limits = {});

// Returns the $/h saved (≥ 0).
double empty_by_ejection(Layout& layout, const EjectionLimits& limits = {});

}  // namespace byoc::plan::packing
