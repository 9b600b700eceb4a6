// What the agent tells the management plane about its services: enumerated
// states, reason codes and ClickHouse error codes only (the telemetry
// allowlist, DESIGN §4.1). This is the agent's half of enforcing it: anything
// a runtime reports outside the enumerations is replaced here (and logged
// locally) before it can reach the wire; the server enforces the same
// schema on its side.
//
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/runtime.h"
#include "model/protocol.h"

namespace byoc::agent {

// One entry per service of `desired`: the state the runtime observes (a
// refused service whose last good spec runs stays READY), with the refusal
// or failure reason from `outcomes` taking precedence over the runtime's. A
// service the runtime doesn't have is PROVISIONING ("starting"), or FAILED
// when it was refused.
std::vector<model::ReportedService> reported_services(const model::DesiredState& desired,
                                                      const std::vector<ServiceStatus>& observed,
                                                      const std::map<std::string, std::string>& outcomes);

}  // namespace byoc::agent
