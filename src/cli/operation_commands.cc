// `byoc operation get|wait ID`.
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

struct Flags {
  std::string id;
  WaitFlags wait;
  std::string format;
};

}  // namespace

void add_operation_commands(CLI::App& app, CommandSet& commands) {
  auto* operation = app.add_subcommand("operation", "Follow long-running operations");
  operation->require_subcommand(1);

  auto get = std::make_shared<Flags>();
  auto* get_sub = operation->add_subcommand("get", "Show an operation and its steps");
  get_sub->add_option("ID", get->id, "Operation id (op-…)")->required();
  add_output_option(get_sub, get->format);
  on_run(get_sub, commands, [get, &io = commands.io] {
    print_result(io, get->format, connect(io)->get("/v1/operations/" + path_segment(get->id)),
                 render_operation);
    return 0;
  });

  auto wait = std::make_shared<Flags>();
  wait->wait.wait = true;
  auto* wait_sub = operation->add_subcommand("wait", "Wait until an operation ends; exit 1 if it failed");
  wait_sub->add_option("ID", wait->id, "Operation id (op-…)")->required();
  wait_sub->add_option("--timeout", wait->wait.timeout_seconds, "Give up after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_output_option(wait_sub, wait->format);
  on_run(wait_sub, commands, [wait, &io = commands.io] {
    auto api = connect(io);
    json done = wait_for(io, *api, json{{"id", wait->id}}, wait->wait);
    print_result(io, wait->format, done, render_operation);
    return 0;
  });
}

}  // namespace byoc::cli
