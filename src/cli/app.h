// The `byoc` command line: builds the command tree (server, agent, up,
// login, env, service, operation, profile, token, org, plan) and runs the
// chosen command.
//
// Exit codes: 0 success; 1 the command failed (API error, unreachable server,
// failed operation); 2 the command line itself is wrong. Every failure is
// one line on stderr: "error: <message>" plus " (field: X)" when the API
// named the field at fault. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "cli/io.h"

namespace byoc::cli {

// main(): std::cout/std::cerr, the process environment.
int run(int argc, char** argv);

// `args` without the program name. Testable: output goes to io.
int run(const std::vector<std::string>& args, Io& io);

}  // namespace byoc::cli
