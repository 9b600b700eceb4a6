// The API client subcommands: `byoc env …`, `byoc service …`,
// `byoc operation …`, `byoc profile …`, `byoc token …`, `byoc org …`,
// `byoc audit …`, `byoc access …` and `byoc login`. Each registers its
// flags on the given app and its action in the CommandSet.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace byoc::cli {

void add_env_commands(CLI::App& app, CommandSet& commands);
void add_service_commands(CLI::App& app, CommandSet& commands);
void add_operation_commands(CLI::App& app, CommandSet& commands);
void add_profile_commands(CLI::App& app, CommandSet& commands);
void add_cloud_commands(CLI::App& app, CommandSet& commands);
void add_token_commands(CLI::App& app, CommandSet& commands);
void add_org_commands(CLI::App& app, CommandSet& commands);
void add_plane_commands(CLI::App& app, CommandSet& commands);
void add_login_command(CLI::App& app, CommandSet& commands);
void add_audit_commands(CLI::App& app, CommandSet& commands);
void add_access_commands(CLI::App& app, CommandSet& commands);
// `byoc version publish|list` and `byoc upgrade plan|status|start|pause|resume|defer`.
void add_upgrade_commands(CLI::App& app, CommandSet& commands);
// `byoc aws …`: AWS tools that need no byoc server (request signing, the
// CloudFormation templates, the pre-flight of a customer's account).
void add_aws_commands(CLI::App& app, CommandSet& commands);

}  // namespace byoc::cli
