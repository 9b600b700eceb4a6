// Repair and local improvement of a Layout, shared by the packed heuristic, the scale-in re-placement and the
// baselines.
//
// - insert_unplaced: every unplaced replica, largest first, at the least extra $/h: into free room on a node
//   (best fit), onto a node upgraded to a dearer type, or onto a new node of the cheapest type that holds it, in a
//   zone its group's spread allows.
// - downsize: every node that doesn't continue a current node onto the cheapest type that holds its load.
// - eliminate_nodes: empties a node when its replicas fit elsewhere (free room or upgrades) for less than the
//   node costs; pinned replicas never move, nodes that continue a current node never change type.
//
// Not thread-safe (edits the Layout).
#pragma once

#include <vector>

#include "plan/packing/layout.h"

namespace byoc::plan::packing {

struct InsertOptions {
  bool allow_new_nodes = true;
  bool allow_upgrades = true;
  bool allow_existing_nodes = true;  // false: one replica per new node (dedicated mode)
  int exclude_node = -1;  // never insert here (the node being emptied)
};

// Places the given replicas (which must be unplaced), largest first. Returns the added $/h, or a negative value
// when some replica could not be placed (only possible without new nodes; the layout then holds the partial
// insertion).
double insert_replicas(Layout& layout, std::vector<int> replicas, const InsertOptions& options = {});
// All unplaced replicas; new nodes allowed, so never fails.
void insert_unplaced(Layout& layout);

// Returns the $/h saved.
double downsize(Layout& layout);
double eliminate_nodes(Layout& layout, int max_passes = 4);
// downsize + eliminate_nodes until nothing improves.
void improve(Layout& layout);

}  // namespace byoc::plan::packing
