// solve_zoned_master: the last step of price-and-branch. The zone-free integer master (integer_master.h) often
// picks nodes no choice of zones can serve — e.g. three nodes that all carry a replica of two shards that each
// need one replica per zone — and the repair then pays for extra nodes. This program restores the zones on a
// small set of contents: the integer master's solutions, the LP's support and the nodes of the best plan so far.
//
// A variable per (content, zone) counts new nodes. Per (class, zone) the slots opened must hold a number u of
// the class's replicas the zone spread allows there (the sums of its item groups' per-zone minimum and maximum
// given what the base layout holds), and per class the u add up to its demand. The u are continuous: for
// integer node counts an integer u exists whenever a fractional one does (interval bounds and one sum per
// class). The best plan so far is the start, so the answer is never dearer than it.
//
// Deterministic (a branch-and-bound node limit; a wall-clock safety net only). Not thread-safe (GLPK); no state
// between calls.
#pragma once

#include <optional>
#include <vector>

#include "plan/packing/column_generation.h"
#include "plan/packing/integer_master.h"
#include "plan/packing/layout.h"

namespace byoc::plan::packing {

// One new node: its content (class counts, type) and zone.
struct ZonedNode {
  Pattern pattern;
  int zone = 0;
};

// The nodes of `layout` past `base`'s as zoned contents of `classes`; empty unless they hold every replica of
// the classes.
std::vector<ZonedNode> zoned_nodes_of(const Layout& base, const Layout& layout, const std::vector<ItemClass>& classes);

// New nodes that place every replica of `classes` into `base` by the zone spread, from `contents` (each usable
// in any zone, any number of times) and the contents of `start` (a known solution, or empty). nullopt when the
// search finds nothing within the limits, or when (contents × zones) exceeds limits.max_patterns (the program
// is then too big to gain anything within the node limit).
std::optional<std::vector<ZonedNode>> solve_zoned_master(const Layout& base, const std::vector<ItemClass>& classes,
                                                         const std::vector<Pattern>& contents,
                                                         const std::vector<ZonedNode>& start,
                                                         const IntegerMasterLimits& limits);

}  // namespace byoc::plan::packing
