#include "agent/runtime.h"

namespace byoc::agent {

const char* to_string(ReplicaState s) {
  switch (s) {
    case ReplicaState::kStarting: return "STARTING";
    case ReplicaState::kRunning: return "RUNNING";
    case ReplicaState::kRestarting: return "RESTARTING";
    case ReplicaState::kFailed: return "FAILED";
    case ReplicaState::kStopped: return "STOPPED";
  }
  return "UNKNOWN";
}

const char* to_string(ServiceState s) {
  switch (s) {
    case ServiceState::kProvisioning: return "PROVISIONING";
    case ServiceState::kReady: return "READY";
    case ServiceState::kFailed: return "FAILED";
    case ServiceState::kDeleting: return "DELETING";
  }
  return "UNKNOWN";
}

model::ReportedRollout unknown_version_rollout(const ServiceSpec& spec) {
  return {spec.rollout ? spec.rollout->id : "", "failed", 0, spec.shards * spec.replicas, 0, 0, "version_unknown"};
}

void report_rollout_state(const std::string& state, bool step_under_way, ServiceStatus& status) {
  if (status.state == ServiceState::kFailed) return;
  if (state == "failed") {
    if (step_under_way || status.state != ServiceState::kReady) status.state = ServiceState::kProvisioning;
    status.reason = "rollout_failed";
  } else if (state == "waiting" && !step_under_way) {
    status.state = ServiceState::kProvisioning;
    status.reason = "rollout_waiting";
  } else if (state != "done" || step_under_way) {
    status.state = ServiceState::kProvisioning;
    status.reason = "rolling";
  }
}

}  // namespace byoc::agent
