// The machine this process runs on, as capacity for placing replicas.
#pragma once

#include <cstdint>

namespace byoc {

struct HostCapacity {
  int cores = 0;
  int64_t memory_mib = 0;
  bool operator==(const HostCapacity&) const = default;
};

// Online cores and physical memory of this machine.
HostCapacity this_host_capacity();

}  // namespace byoc
