#include "model/environment_profiles.h"

#include "base/error.h"
#include "cloud/traits.h"
#include "plan/catalogue.h"

namespace byoc::model {

std::vector<plan::Profile> environment_profiles(const Environment& environment,
                                                const std::optional<HostCapacity>& host) {
  plan::Resources daemonsets{environment.daemonset_cpu_millis, environment.daemonset_memory_mib};
  const cloud::CloudTraits* traits = cloud::find_cloud(environment.cloud);
  if (traits && traits->capacity == cloud::CapacitySource::kCatalogue)
    return plan::profiles_for(plan::Catalogue::builtin(), environment.instance_types, daemonsets,
                              plan::AllocatableMode::kNominal);
  if (!host)
    throw Error::Conflict("host_capacity_unknown",
                          "the environment's host capacity is not known yet (its agent has not reported)",
                          "environment");
  return {plan::host_profile(host->cores, host->memory_mib, daemonsets)};
}

}  // namespace byoc::model
