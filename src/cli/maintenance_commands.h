// `byoc env maintenance get|set` and `byoc service maintenance get|set|clear`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace byoc::cli {

// Registers `maintenance` under `parent` (`byoc env` or, with `service`, `byoc service`).
void add_maintenance_commands(CLI::App* parent, CommandSet& commands, bool service);

}  // namespace byoc::cli
