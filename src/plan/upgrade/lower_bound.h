// A lower bound on an upgrade's wall time that no schedule can beat, computed
// from the fleet and the simulator's durations alone — not from the upgrader
// (bench/README.md has the formula). Under the rules every schedule follows:
// the control plane moves one minor at a time; no pod leaves an old node
// before replacement nodes are Ready; a ClickHouse pod's drain starts inside
// its service's window and ends by its close; pods under one budget with
// maxUnavailable 1 are down one at a time (each down from its eviction until
// Ready again on a new node); old groups are deleted after their last pod
// left; addons come last. Faults (stuck pods, failures, 429s) are ignored,
// which only lowers the bound; pods that can never leave (maxUnavailable 0,
// stuck) are left out.
#pragma once

#include <chrono>

#include "plan/upgrade/fleet.h"
#include "plan/upgrade/simulator.h"

namespace byoc::plan::upgrade {

// Seconds from fleet.start.
std::chrono::seconds upgrade_lower_bound(const Fleet& fleet, const SimDurations& durations);

}  // namespace byoc::plan::upgrade
