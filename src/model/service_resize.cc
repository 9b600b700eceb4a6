#include "model/service_resize.h"

#include <algorithm>
#include <map>
#include <string>

#include "base/error.h"
#include "cloud/traits.h"
#include "plan/placement.h"

namespace byoc::model {
namespace {

std::string replica_id(const Service& s, int shard, int replica) {
  return s.name + "/" + std::to_string(shard) + "-" + std::to_string(replica);
}

// The instance type the planner puts the service's replicas on: the type of
// most of its nodes (cheaper first on a tie), from a scale-in of the nodes
// they run on now (one replica per node, the zones in turn).
std::string planned_node_type(const Service& service, const std::string& current_type,
                              const Environment& environment) {
  plan::PlacementInput input;
  input.mode = plan::PlacementMode::kDedicated;
  input.zones = environment.zones;
  input.instance_types = environment.instance_types;
  input.allocatable.mode = plan::AllocatableMode::kNominal;
  input.allocatable.daemonsets = {environment.daemonset_cpu_millis, environment.daemonset_memory_mib};
  plan::CurrentPlan current;
  int n = 0;
  for (int shard = 1; shard <= service.shards; ++shard)
    for (int replica = 1; replica <= service.replicas; ++replica, ++n) {
      const std::string id = replica_id(service, shard, replica);
      input.replicas.push_back({id, service.name, std::to_string(shard), {service.cpu_millis, service.memory_mib}});
      if (!current_type.empty() && !environment.zones.empty())
        current.nodes.push_back({current_type, environment.zones[static_cast<size_t>(n) % environment.zones.size()], {id}});
    }
  plan::PlacementPlan placed;
  try {
    placed = plan::plan_scale_in(input, current, -1, plan::Catalogue::builtin());
  } catch (const Error& e) {
    // The planner names a replica; the request's field is the size.
    if (e.code() == "replica_too_large")
      throw Error::Invalid("replica_too_large",
                           "no allowed instance type holds a replica of " + std::to_string(service.cpu_millis) +
                               "m CPU and " + std::to_string(service.memory_mib) + " MiB",
                           "cpu_millis");
    throw;
  }
  std::map<std::string, int> count;
  std::map<std::string, double> price;
  for (const auto& node : placed.nodes) ++count[node.type];
  for (const auto& t : plan::Catalogue::builtin().types()) price[t.name] = t.price_per_hour;
  std::string best;
  for (const auto& [type, c] : count)
    if (best.empty() || c > count[best] || (c == count[best] && price[type] < price[best])) best = type;
  return best;
}

}  // namespace

ServiceResize resize_of(const ServicePatch& patch, const Service& service, const std::vector<plan::Profile>& profiles) {
  ServiceResize r{service.profile, service.cpu_millis, service.memory_mib, service.replicas, 0};
  if (patch.profile) {
    const plan::Profile* p = plan::find_profile(profiles, *patch.profile);
    if (!p) throw Error::Invalid("unknown_profile", "the environment offers no profile '" + *patch.profile + "'", "profile");
    r.profile = p->name;
    r.cpu_millis = static_cast<int>(p->requests.cpu_millis);
    r.memory_mib = static_cast<int>(p->requests.memory_mib);
  }
  if (patch.cpu_millis || patch.memory_mib) {
    r.profile.clear();
    if (patch.cpu_millis) r.cpu_millis = *patch.cpu_millis;
    if (patch.memory_mib) r.memory_mib = *patch.memory_mib;
  }
  if (patch.replicas && *patch.replicas != service.replicas) {
    // One replica in all runs without ZooKeeper: no replicated tables.
    if (service.shards * service.replicas == 1 || service.shards * *patch.replicas == 1)
      throw Error::Invalid("replication_change",
                           "a service of a single replica has no replication to grow from or shrink to",
                           "replicas");
    r.replicas = *patch.replicas;
  }
  return r;
}

bool same_size(const ServiceResize& a, const ServiceResize& b) {
  return a.profile == b.profile && a.cpu_millis == b.cpu_millis && a.memory_mib == b.memory_mib &&
         a.replicas == b.replicas;
}

bool resize_changes(const ServiceResize& r, const Service& s) {
  return r.profile != s.profile || r.cpu_millis != s.cpu_millis || r.memory_mib != s.memory_mib ||
         r.replicas != s.replicas;
}

void place_custom_size(Service& service, const Environment& environment, const std::string& current_type) {
  service.node_type.clear();
  const cloud::CloudTraits* traits = cloud::find_cloud(environment.cloud);
  if (service.profile.empty() && traits && traits->capacity == cloud::CapacitySource::kCatalogue)
    service.node_type = planned_node_type(service, current_type, environment);
}

void apply_resize(Service& service, const ServiceResize& r, const Environment& environment) {
  const std::string current_type = service.profile.empty() ? service.node_type : service.profile;
  const bool size_changes =
      r.profile != service.profile || r.cpu_millis != service.cpu_millis || r.memory_mib != service.memory_mib;
  service.profile = r.profile;
  service.cpu_millis = r.cpu_millis;
  service.memory_mib = r.memory_mib;
  service.replicas = r.replicas;
  // Replicas alone keep their node type: one replica per node either way.
  if (size_changes) place_custom_size(service, environment, current_type);
}

}  // namespace byoc::model
