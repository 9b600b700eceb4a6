// Allocatable: how much CPU and memory a node of a given instance type offers to ClickHouse replicas, computed the
// way EKS does — maxPods from the ENI limits, kube-reserved CPU and memory, the eviction threshold — minus the
// per-node DaemonSet requests. Two estimates of the node's capacity: `nominal` (the published vCPU and memory) and
// `karpenter` (Karpenter's conservative estimate: minus 64 MiB for the Graviton CMA, then 7.5% VM overhead). A
// capacity measured on a real node of a given (type, AMI) replaces both estimates.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/catalogue.h"

namespace byoc::plan {

enum class AllocatableMode { kNominal, kKarpenter };

std::string_view to_string(AllocatableMode mode);
std::optional<AllocatableMode> parse_allocatable_mode(std::string_view text);

struct Resources {
  int64_t cpu_millis = 0;
  int64_t memory_mib = 0;

  bool fits_in(const Resources& room) const { return cpu_millis <= room.cpu_millis && memory_mib <= room.memory_mib; }
  Resources& operator+=(const Resources& o) {
    cpu_millis += o.cpu_millis;
    memory_mib += o.memory_mib;
    return *this;
  }
  Resources& operator-=(const Resources& o) {
    cpu_millis -= o.cpu_millis;
    memory_mib -= o.memory_mib;
    return *this;
  }
  friend Resources operator+(Resources a, const Resources& b) { return a += b; }
  friend Resources operator-(Resources a, const Resources& b) { return a -= b; }
  friend bool operator==(const Resources&, const Resources&) = default;
};

// node.status.capacity as reported by a real node of `type` booted from `ami`.
struct MeasuredCapacity {
  std::string type;
  std::string ami;
  Resources capacity;
};

struct AllocatablePolicy {
  AllocatableMode mode = AllocatableMode::kNominal;
  Resources daemonsets;                   // requests of the DaemonSets every node runs
  std::string ami;                        // selects the measured capacities that apply
  std::vector<MeasuredCapacity> measured;
};

constexpr int64_t kEvictionHardMemoryMib = 100;
constexpr int64_t kGravitonCmaMib = 64;

// ENIs × (IPv4 per ENI − 1) + 2: the VPC CNI gives every pod its own address, one per ENI goes to the ENI itself.
int max_pods(const InstanceType& type);
// 6% of the first core, 1% of the second, 0.5% of cores 3–4, 0.25% of the rest; rounded up to whole millicores.
int64_t kube_reserved_cpu_millis(int vcpu);
// 11 MiB per pod + 255 MiB.
int64_t kube_reserved_memory_mib(int max_pods);

// The node's capacity before reservations: measured when the policy has an entry for (type, ami), else nominal or
// Karpenter's estimate.
Resources node_capacity(const InstanceType& type, const AllocatablePolicy& policy);
// Capacity minus kube-reserved, eviction-hard and DaemonSets. May be zero or negative when the DaemonSets don't
// leave room on a small type; callers treat such types as unusable.
Resources allocatable(const InstanceType& type, const AllocatablePolicy& policy);

}  // namespace byoc::plan
