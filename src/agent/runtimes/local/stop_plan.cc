#include "agent/runtimes/local/stop_plan.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "agent/runtimes/local/proc_table.h"

namespace byoc::agent::local {
namespace {

// nginx drains in well under a second. ClickHouse may need ~15 s to let go
// of keep-alive clients, but the endpoint is stopped first, so usually ~1 s.
// ZooKeeper goes last, once no replica holds a session.
constexpr std::chrono::seconds kEndpointStopGrace{5};
constexpr std::chrono::seconds kReplicaStopGrace{30};
constexpr std::chrono::seconds kZooKeeperStopGrace{10};
constexpr const char* kNginxComm = "nginx";

std::vector<pid_t> pids_of(const std::vector<StopPlan::Process>& list) {
  std::vector<pid_t> out;
  for (const auto& [pid, file] : list) out.push_back(pid);
  return out;
}

}  // namespace

void stop_in_order(const StopPlan& plan) {
  if (plan.size() == 0) return;
  std::error_code ec;
  if (!plan.endpoints.empty()) {
    terminate_together(pids_of(plan.endpoints), kEndpointStopGrace);
    for (const auto& [pid, file] : plan.endpoints) {
      kill_group_members(pid, kNginxComm);  // workers of a master killed at the deadline
      std::filesystem::remove(file, ec);
    }
  }
  if (!plan.replicas.empty()) {
    terminate_together(pids_of(plan.replicas), kReplicaStopGrace);
    for (const auto& [pid, file] : plan.replicas) std::filesystem::remove(file, ec);
  }
  if (plan.zookeeper) {
    terminate_together({plan.zookeeper->first}, kZooKeeperStopGrace);
    std::filesystem::remove(plan.zookeeper->second, ec);
  }
  spdlog::info("local runtime: stopped {} endpoint(s), {} replica(s){}", plan.endpoints.size(),
               plan.replicas.size(), plan.zookeeper ? " and ZooKeeper" : "");
}

}  // namespace byoc::agent::local
