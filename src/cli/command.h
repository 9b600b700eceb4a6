// Plumbing shared by the subcommands: how a parsed subcommand hands its
// action to run() (actions run after parsing, so a usage error never half-runs
// a command), the common flags (-o, --wait, --timeout, --organization) and how
// a command gets an ApiClient from the saved login and the environment.
//
// Not thread-safe: one parse and one action per process.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/api_client.h"
#include "cli/io.h"
#include "cli/output.h"
#include "cli/progress.h"

namespace byoc::cli {

using Action = std::function<int()>;

struct CommandSet {
  Io& io;
  Action action;  // the parsed leaf subcommand's work; empty if none was chosen
};

// Makes `fn` the action when `sub` is the parsed subcommand. `check`, when
// given, runs first, still inside parsing: it throws a CLI::ParseError (such
// as CLI::ValidationError) for a command line CLI11's own rules can't reject,
// which run() reports as a usage error (exit 2) before anything is sent.
void on_run(CLI::App* sub, CommandSet& commands, Action fn, std::function<void()> check = {});

// -o/--output table|json (default table) into `format`.
void add_output_option(CLI::App* sub, std::string& format);

struct WaitFlags {
  bool wait = false;
  int timeout_seconds = 600;
};
// --wait and --timeout SECONDS.
void add_wait_options(CLI::App* sub, WaitFlags& flags, const std::string& what);

// --organization NAME into `organization` (empty, and then not sent, unless
// given): the organisation admins and vendor staff act in; a customer's token
// always acts in its own.
void add_organization_option(CLI::App* sub, std::string& organization);

// An ApiClient for the server in ~/.config/byoc/config.json, overridden by
// BYOC_SERVER / BYOC_TOKEN / BYOC_CA_FILE, sending through io.transport.
std::unique_ptr<ApiClient> connect(const Io& io);

// Prints `value` with `render` for tables or as JSON.
void print_result(Io& io, const std::string& format, const nlohmann::json& value,
                  const std::function<std::string(const nlohmann::json&)>& render);

// Waits for the operation `operation["id"]` showing progress on io.err.
nlohmann::json wait_for(Io& io, ApiClient& api, const nlohmann::json& operation, const WaitFlags& flags);

// The object an ended operation made or changed: its `result`, or (for one
// that carries none) what GET `path` answers now.
nlohmann::json operation_result(ApiClient& api, const nlohmann::json& done, const std::string& path);

// What every command that starts an operation does with the server's answer:
// prints the operation as it is, or with --wait waits for it to end and hands
// the ended operation to `print_done`.
void finish_operation(Io& io, ApiClient& api, const nlohmann::json& operation, const WaitFlags& wait,
                      const std::string& format, const std::function<void(const nlohmann::json& done)>& print_done);

}  // namespace byoc::cli
