// What this agent refuses to run, whatever the management plane asks: the
// desired state is checked service by service before anything is rendered.
// A refused service is reported FAILED with the reason code and its last good
// configuration (if any) keeps running.
#pragma once

#include <string>

#include "model/protocol.h"

namespace byoc::agent {

// Returns "" when the agent will run `service`, else an enumerated reason
// code from model::reason_codes() (e.g. "unsupported_topology").
std::string refusal_reason(const model::DesiredService& service);

}  // namespace byoc::agent
