// The ordered stop of a local environment's processes: endpoints, then
// replicas, then ZooKeeper, each group signalled together and waited for
// under one deadline, so the whole stop is bounded whatever the number of
// replicas. The runtime collects the plan under its lock and carries it out
// outside it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

namespace byoc::agent::local {

struct StopPlan {
  using Process = std::pair<pid_t, std::filesystem::path>;  // and its pid file, removed once it is gone
  std::vector<Process> endpoints;  // nginx masters
  std::vector<Process> replicas;
  std::optional<Process> zookeeper;
  size_t size() const { return endpoints.size() + replicas.size() + (zookeeper ? 1 : 0); }
};

// Carries `plan` out; returns once every process is gone or its group's
// grace (5 s endpoints, 30 s replicas, 10 s ZooKeeper) ran out and it was killed.
void stop_in_order(const StopPlan& plan);

}  // namespace byoc::agent::local
