// `byoc agent render-kubernetes --desired FILE`: what the agent's Kubernetes
// runtime would apply for a desired state (the protocol's JSON), printed as
// one {"apiVersion":"v1","kind":"List","items":[…]} for operators to review
// (render/kubernetes/kubernetes.h). Needs no cluster, no server, no state.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace byoc::cli {

// Registers the subcommand on `agent` (the `byoc agent` app).
void add_render_kubernetes_command(CLI::App& agent, CommandSet& commands);

}  // namespace byoc::cli
