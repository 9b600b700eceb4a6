// Fleet: the world `byoc plan upgrade` and the simulator start from — a
// cluster, its managed node groups and their nodes, the pods on them, the
// PodDisruptionBudgets, each service's maintenance window and the start
// time; faults to inject. docs/upgrades.md has the JSON form and its limits;
// fleet_from_json validates it whole and throws Error::Invalid naming the
// field ("pods[3].node").
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/maintenance_window.h"

namespace byoc::plan::upgrade {

inline constexpr std::size_t kMaxNodeGroups = 64;
inline constexpr std::size_t kMaxNodesPerGroup = 450;  // EKS's own limit for a managed node group
inline constexpr std::size_t kMaxNodes = 1000;
inline constexpr std::size_t kMaxPods = 10000;
inline constexpr std::size_t kMaxPdbs = 2000;
inline constexpr std::size_t kMaxAddons = 8;
inline constexpr std::size_t kMaxPodsPerPdb = 6;  // keeps the lower bound's permutations small
inline constexpr int kMaxVersionSkew = 3;         // minors between the oldest node and the target
inline constexpr std::chrono::minutes kMaxDrain{24 * 60};

struct FleetNodeGroup {
  std::string name;
  std::string version;  // "1.29"
  int nodes = 0;        // named "<name>-0" … "<name>-(nodes-1)"
  std::string instance_type;
};

struct FleetPod {
  std::string name;
  std::string service;
  std::string shard;  // "" for a pod of no shard
  std::string node;
  bool clickhouse = true;  // false: a system pod, which has no window
  std::chrono::seconds drain{0};
};

// Selects the pods of `service` (and `shard`, when given).
struct FleetPdb {
  std::string name;
  std::string service;
  std::string shard;
  int max_unavailable = 1;
};

struct FleetAddon {
  std::string name;
  std::string version;
  std::string target_version;
};

struct FleetFaults {
  int throttle_percent = 0;                        // each call answered 429 with this chance
  std::map<std::string, int> create_failures;      // replacement of this old group: its first k creations fail
  std::vector<std::string> stuck_pods;             // evicted, they never terminate (a finalizer)
};

struct Fleet {
  Instant start;
  std::string cluster_name;
  std::string cluster_version;
  std::string target_version;
  std::vector<FleetNodeGroup> node_groups;
  std::vector<FleetPod> pods;
  std::vector<FleetPdb> pdbs;
  std::vector<FleetAddon> addons;
  std::map<std::string, MaintenanceWindow> windows;  // by service; every ClickHouse pod's service has one
  std::chrono::seconds eviction_timeout{std::chrono::minutes{60}};
  std::chrono::seconds max_run{std::chrono::days{28}};
  FleetFaults faults;
};

Fleet fleet_from_json(const nlohmann::json& j);

// "1.29" → 29 (the minor); throws Error::Invalid naming `field` unless "1.N".
int minor_of(const std::string& version, const std::string& field);
std::string version_of_minor(int minor);

}  // namespace byoc::plan::upgrade
