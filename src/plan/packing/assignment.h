// assign_patterns: turns the patterns a rounding chose (node type + how many replicas of each item class) into
// concrete nodes: first a zone for each new node, balancing every class's slots over the zones; then, class by
// class, each replica into a slot — the zone with the most free slots of its class that the group's spread still
// allows (the greedy that realises any feasible degree sequence, as in the Gale–Ryser construction), then the node
// of that zone with the most free slots. Replicas that find no slot stay unplaced for insert_unplaced. `zones`, when
// given (one per pattern), fixes each new node's zone instead (the integer master chose them).
//
// Not thread-safe (edits the Layout).
#pragma once

#include <vector>

#include "plan/packing/column_generation.h"
#include "plan/packing/layout.h"

namespace byoc::plan::packing {

void assign_patterns(Layout& layout, const std::vector<ItemClass>& classes, const std::vector<Pattern>& nodes,
                     const std::vector<int>& zones = {});

}  // namespace byoc::plan::packing
