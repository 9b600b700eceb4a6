// The replica profiles an environment offers: for `aws`, one per allowed
// instance type (plan::profiles_for with the environment's DaemonSets); for
// `local`/`external`, the host itself as the one node type. Pure: the host's
// capacity is an input.
#pragma once

#include <optional>
#include <vector>

#include "base/host.h"
#include "model/objects.h"
#include "plan/profiles.h"

namespace byoc::model {

using byoc::HostCapacity;

// Throws byoc::Error (kConflict, "host_capacity_unknown") for a host-based
// environment whose capacity isn't known yet.
std::vector<plan::Profile> environment_profiles(const Environment& environment,
                                                const std::optional<HostCapacity>& host);

}  // namespace byoc::model
