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

}  // namespace byoc::agent
