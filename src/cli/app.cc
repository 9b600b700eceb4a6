#include "cli/app.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "cli/command.h"
#include "cli/daemon_commands.h"
#include "cli/output.h"
#include "cli/plan_command.h"
#include "cli/resource_commands.h"
#include "cli/up_command.h"

namespace byoc::cli {

namespace {

constexpr int kUsageError = 2;
constexpr int kCommandError = 1;

void build(CLI::App& app, CommandSet& commands) {
  app.require_subcommand(1);
  add_server_command(app, commands);
  add_agent_command(app, commands);
  add_up_command(app, commands);
  add_login_command(app, commands);
  add_env_commands(app, commands);
  add_service_commands(app, commands);
  add_operation_commands(app, commands);
  add_profile_commands(app, commands);
  add_cloud_commands(app, commands);
  add_token_commands(app, commands);
  add_org_commands(app, commands);
  add_plane_commands(app, commands);
  add_audit_commands(app, commands);
  add_access_commands(app, commands);
  add_upgrade_commands(app, commands);
  add_aws_commands(app, commands);
  add_plan_commands(app, commands.io.out);
}

}  // namespace

int run(const std::vector<std::string>& args, Io& io) {
  CommandSet commands{io, nullptr};
  CLI::App app("byoc: run ClickHouse in your own cloud account, operated from a management plane", "byoc");
  try {
    build(app, commands);
    if (args.empty()) {
      io.err << app.help();
      return kUsageError;
    }
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes a vector back to front
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, io.out, io.err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, io.out, io.err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, io.out, io.err);
  } catch (const CLI::ParseError& e) {
    io.err << error_line(e.what()) << "\n";
    return kUsageError;
  } catch (const std::exception& e) {
    // A command registered by another module may act inside parse().
    io.err << error_line(e) << "\n";
    return kCommandError;
  }
  if (!commands.action) return 0;
  try {
    return commands.action();
  } catch (const std::exception& e) {
    io.out << std::flush;
    io.err << error_line(e) << "\n";
    return kCommandError;
  }
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  SystemClock clock;
  Io io{std::cout, std::cerr, clock, ::isatty(STDERR_FILENO) == 1, process_env()};
  return run(args, io);
}

}  // namespace byoc::cli
