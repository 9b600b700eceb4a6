#include "plan/allocatable.h"

#include <algorithm>

namespace byoc::plan {

std::string_view to_string(AllocatableMode mode) {
  return mode == AllocatableMode::kKarpenter ? "karpenter" : "nominal";
}

std::optional<AllocatableMode> parse_allocatable_mode(std::string_view text) {
  if (text == "nominal") return AllocatableMode::kNominal;
  if (text == "karpenter") return AllocatableMode::kKarpenter;
  return std::nullopt;
}

int max_pods(const InstanceType& type) { return type.enis * (type.ipv4_per_eni - 1) + 2; }

int64_t kube_reserved_cpu_millis(int vcpu) {
  // In tenths of a millicore so 0.25% of a core (2.5m) stays exact.
  int64_t tenths = 0;
  for (int core = 1; core <= vcpu; ++core) {
    if (core == 1) {
      tenths += 600;
    } else if (core == 2) {
      tenths += 100;
    } else if (core <= 4) {
      tenths += 50;
    } else {
      tenths += 25;
    }
  }
  return (tenths + 9) / 10;
}

int64_t kube_reserved_memory_mib(int pods) { return 11 * static_cast<int64_t>(pods) + 255; }

Resources node_capacity(const InstanceType& type, const AllocatablePolicy& policy) {
  for (const auto& m : policy.measured) {
    if (m.type == type.name && m.ami == policy.ami) return m.capacity;
  }
  Resources capacity{static_cast<int64_t>(type.vcpu) * 1000, type.memory_mib};
  if (policy.mode == AllocatableMode::kKarpenter) {
    int64_t memory = capacity.memory_mib - kGravitonCmaMib;
    // Karpenter rounds the overhead up to whole MiB: ceil(memory × 0.075).
    int64_t overhead = (memory * 75 + 999) / 1000;
    capacity.memory_mib = memory - overhead;
  }
  return capacity;
}

Resources allocatable(const InstanceType& type, const AllocatablePolicy& policy) {
  Resources capacity = node_capacity(type, policy);
  // The EKS AMI derives kube-reserved from the type's vCPU count and maxPods, whatever capacity the node reports.
  return Resources{capacity.cpu_millis - kube_reserved_cpu_millis(type.vcpu) - policy.daemonsets.cpu_millis,
                   capacity.memory_mib - kube_reserved_memory_mib(max_pods(type)) - kEvictionHardMemoryMib -
                       policy.daemonsets.memory_mib};
}

}  // namespace byoc::plan
