// `byoc server` and `byoc agent`: thin flag parsing in front of
// server::run_server and agent::run_agent, which own everything else
// (logging, signals, locks). `byoc agent` has no flag for the join token on
// purpose: argv is world-readable in /proc, so the token comes from a file or
// $BYOC_JOIN_TOKEN only.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace byoc::cli {

void add_server_command(CLI::App& app, CommandSet& commands);
void add_agent_command(CLI::App& app, CommandSet& commands);

}  // namespace byoc::cli
