#include "plan/profiles.h"

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::plan {

std::string node_group_name(std::string_view instance_type) {
  std::string name = "byoc-";
  for (char c : instance_type) name += (c == '.' ? '-' : c);
  return name;
}

int64_t ssd_cache_gib(int64_t local_nvme_gb) {
  // A tenth of the disk stays free for the filesystem and ClickHouse's temporary data (merges, external sorts).
  return static_cast<int64_t>(static_cast<double>(local_nvme_gb) * 1e9 / (1024.0 * 1024 * 1024) * 0.9);
}

namespace {

void check_daemonsets(const Resources& daemonsets) {
  if (daemonsets.cpu_millis < 0) {
    throw Error::Invalid("invalid_daemonsets", "daemonset CPU requests can't be negative", "daemonsets.cpu_millis");
  }
  if (daemonsets.memory_mib < 0) {
    throw Error::Invalid("invalid_daemonsets", "daemonset memory requests can't be negative",
                         "daemonsets.memory_mib");
  }
}

Profile profile_of(const InstanceType& type, const Resources& room) {
  Profile p;
  p.name = type.name;
  p.instance_type = type.name;
  p.price_per_hour = type.price_per_hour;
  p.max_pods = max_pods(type);
  p.allocatable = room;
  p.requests = room;
  p.limits = room;
  p.ssd_cache_gib = ssd_cache_gib(type.local_nvme_gb);
  p.node_group = node_group_name(type.name);
  p.node_labels = {{std::string(kNodeGroupLabel), p.node_group}};
  p.node_selector = {{std::string(kNodeGroupLabel), p.node_group},
                     {"node.kubernetes.io/instance-type", type.name}};
  return p;
}

}  // namespace

std::vector<Profile> profiles_for(const Catalogue& catalogue, const std::vector<std::string>& allowed_types,
                                  const AllocatablePolicy& policy) {
  check_daemonsets(policy.daemonsets);
  std::vector<const InstanceType*> types;
  if (allowed_types.empty()) {
    for (const auto& t : catalogue.types()) types.push_back(&t);
  } else {
    for (size_t i = 0; i < allowed_types.size(); ++i) {
      const InstanceType* t = catalogue.find(allowed_types[i]);
      if (!t) {
        throw Error::Invalid("unknown_instance_type", "no instance type '" + allowed_types[i] + "' in the catalogue",
                             "instance_types[" + std::to_string(i) + "]");
      }
      types.push_back(t);
    }
  }
  std::vector<Profile> profiles;
  for (const auto& t : catalogue.types()) {
    bool allowed = false;
    for (const auto* a : types) allowed = allowed || a == &t;
    if (!allowed) continue;
    Resources room = allocatable(t, policy);
    if (room.cpu_millis <= 0 || room.memory_mib <= 0) continue;
    profiles.push_back(profile_of(t, room));
  }
  if (profiles.empty()) {
    throw Error::Invalid("daemonsets_too_large", "the daemonset requests leave no room on any allowed instance type",
                         "daemonsets");
  }
  return profiles;
}

std::vector<Profile> profiles_for(const Catalogue& catalogue, const std::vector<std::string>& allowed_types,
                                  const Resources& daemonsets, AllocatableMode mode) {
  AllocatablePolicy policy;
  policy.mode = mode;
  policy.daemonsets = daemonsets;
  return profiles_for(catalogue, allowed_types, policy);
}

Profile host_profile(int cores, int64_t memory_mib, const Resources& daemonsets) {
  if (cores < 1) throw Error::Invalid("invalid_host", "the host must have at least one core", "cores");
  if (memory_mib < 1) throw Error::Invalid("invalid_host", "the host must have memory", "memory_mib");
  check_daemonsets(daemonsets);
  Resources room = Resources{static_cast<int64_t>(cores) * 1000, memory_mib} - daemonsets;
  if (room.cpu_millis <= 0 || room.memory_mib <= 0) {
    throw Error::Invalid("daemonsets_too_large", "the per-node requests leave no room on the host", "daemonsets");
  }
  Profile p;
  p.name = "host";
  p.instance_type = "host";
  p.allocatable = room;
  p.requests = room;
  p.limits = room;
  return p;
}

const Profile* find_profile(const std::vector<Profile>& profiles, std::string_view name) {
  for (const auto& p : profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void to_json(nlohmann::json& j, const Resources& r) {
  j = nlohmann::json{{"cpu_millis", r.cpu_millis}, {"memory_mib", r.memory_mib}};
}

void to_json(nlohmann::json& j, const Profile& p) {
  j = nlohmann::json{{"name", p.name},
                     {"instance_type", p.instance_type},
                     {"price_per_hour", p.price_per_hour},
                     {"max_pods", p.max_pods},
                     {"allocatable", p.allocatable},
                     {"requests", p.requests},
                     {"limits", p.limits},
                     {"ssd_cache_gib", p.ssd_cache_gib},
                     {"node_group", p.node_group},
                     {"node_labels", p.node_labels},
                     {"node_selector", p.node_selector}};
}

}  // namespace byoc::plan
