// `byoc plan placement`: the placement planner from the command line, with no server. Reads the input (and
// optionally a previous plan) as JSON files, prints the plan as pretty JSON. `byoc plan window`: where an
// instant stands in a maintenance window file. `byoc plan upgrade`: the Kubernetes upgrader run against the
// simulator on a fleet file, its events and figures as JSON. Bad input throws byoc::Error
// (invalid or bad_request) with the field at fault; the caller prints it as one line and exits non-zero.
//
// Registration is not thread-safe (CLI11); the command runs on the calling thread.
#pragma once

#include <ostream>

#include <CLI/CLI.hpp>

namespace byoc::cli {

// Registers `plan placement --input F.json [--current G.json --max-migrations K]` and
// `plan window --window F.json --at T [--drain-minutes D]` and
// `plan upgrade --fleet F.json [--seed N] [--crash-at K]` on `app`, printing to stdout.
void add_plan_commands(CLI::App& app);
// Same, printing to `out` (which must outlive the parse).
void add_plan_commands(CLI::App& app, std::ostream& out);

}  // namespace byoc::cli
