// Profile: a ready-made replica size for one allowed instance type — the requests and limits of a ClickHouse
// replica that fills one node of that type (allocatable after kube-reserved, eviction and DaemonSets), the SSD cache
// carved from the node's local NVMe, and where such a node comes from (EKS node group, its label, and the
// nodeSelector a replica uses to land there). A service that names a profile takes its requests as its
// cpu_millis/memory_mib. For `local`/`external` environments the host itself is the one node type.
//
// Pure functions of their arguments; thread-safe. No I/O: the server serialises Profiles with to_json.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "plan/allocatable.h"
#include "plan/catalogue.h"

namespace byoc::plan {

struct Profile {
  std::string name;           // the instance type ("m7gd.large"), or "host"
  std::string instance_type;  // same as name for EC2 types; "host" for the host profile
  double price_per_hour = 0;  // 0 for the host
  int max_pods = 0;           // 0 for the host (no kubelet there)
  Resources allocatable;      // what the node offers pods after reservations and DaemonSets
  Resources requests;         // a replica that fills the node
  Resources limits;           // = requests: Guaranteed QoS, so the kubelet evicts a replica last under pressure
  int64_t ssd_cache_gib = 0;  // ClickHouse's local cache on the node's NVMe
  std::string node_group;     // EKS managed node group, "byoc-m7gd-large"; empty for the host
  std::map<std::string, std::string> node_labels;    // labels the node group puts on its nodes
  std::map<std::string, std::string> node_selector;  // what a replica's pod selects
};

// Label key byoc puts on every node of its node groups.
inline constexpr std::string_view kNodeGroupLabel = "byoc.io/node-group";

// "byoc-m7gd-large": EKS node group names allow letters, digits, '-' and '_', not '.'.
std::string node_group_name(std::string_view instance_type);

// One profile per allowed type (all catalogue types when `allowed_types` is empty), in the catalogue's order.
// Types whose allocatable is not positive once the DaemonSets are taken are left out. Throws byoc::Error
// (invalid): "unknown_instance_type" (field "instance_types[i]"), "daemonsets_too_large" (field "daemonsets")
// when no allowed type has room left, "invalid_daemonsets" for negative requests.
std::vector<Profile> profiles_for(const Catalogue& catalogue, const std::vector<std::string>& allowed_types,
                                  const Resources& daemonsets, AllocatableMode mode);
std::vector<Profile> profiles_for(const Catalogue& catalogue, const std::vector<std::string>& allowed_types,
                                  const AllocatablePolicy& policy);

// The host of a `local`/`external` environment as the one node type: all its cores and memory minus the
// DaemonSet-like per-node requests (the agent's own processes), no price, no node group. Throws byoc::Error
// (invalid) for cores < 1 or memory_mib < 1 ("invalid_host") or no room left ("daemonsets_too_large").
Profile host_profile(int cores, int64_t memory_mib, const Resources& daemonsets = {});

// nullptr when no profile has that name.
const Profile* find_profile(const std::vector<Profile>& profiles, std::string_view name);

// SSD cache for a node with `local_nvme_gb` of NVMe (decimal GB): 90% of it in GiB, rounded down.
int64_t ssd_cache_gib(int64_t local_nvme_gb);

void to_json(nlohmann::json& j, const Resources& r);
void to_json(nlohmann::json& j, const Profile& p);

}  // namespace byoc::plan
