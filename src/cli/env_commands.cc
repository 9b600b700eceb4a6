// `byoc env create|list|get|delete|join-token`.
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

std::string env_path(const std::string& name) { return "/v1/environments/" + path_segment(name); }

struct CreateFlags {
  EnvironmentCreateArgs args;
  WaitFlags wait;
  std::string format;
};

struct NameFlags {
  std::string name;
  WaitFlags wait;
  std::string format;
};

void add_create(CLI::App* env, CommandSet& commands) {
  auto flags = std::make_shared<CreateFlags>();
  auto* sub = env->add_subcommand("create", "Create an environment (the place services run in)");
  sub->add_option("NAME", flags->args.name, "Environment name (DNS label)")->required();
  sub->add_option("--cloud", flags->args.cloud, "Where it runs: local, external (your own agent) or aws")
      ->required()
      ->check(CLI::IsMember({"local", "external", "aws"}));
  sub->add_option("--cidr", flags->args.cidr, "Private IPv4 range for the environment, e.g. 10.0.0.0/16")
      ->required()
      ->check(CLI::Validator([](std::string& value) { return ipv4_cidr_syntax_error(value); }, "CIDR"));
  sub->add_option("--region", flags->args.region, "Cloud region (default: the cloud's own)");
  sub->add_option("--zones", flags->args.zones, "Availability zones, comma-separated (default: a)")
      ->delimiter(',');
  add_wait_options(sub, flags->wait, "the environment is ready");
  add_output_option(sub, flags->format);
  on_run(sub, commands, [flags, &io = commands.io] {
    auto api = connect(io);
    json operation = api->post("/v1/environments", environment_create_body(flags->args));
    if (!flags->wait.wait) {
      print_result(io, flags->format, operation, render_operation);
      return 0;
    }
    json done = wait_for(io, *api, operation, flags->wait);
    json environment = done.contains("result") && done["result"].is_object()
                           ? done["result"]
                           : api->get(env_path(flags->args.name));
    print_result(io, flags->format, environment, render_environment);
    return 0;
  });
}

void add_list(CLI::App* env, CommandSet& commands) {
  auto format = std::make_shared<std::string>();
  auto* sub = env->add_subcommand("list", "List environments");
  add_output_option(sub, *format);
  on_run(sub, commands, [format, &io = commands.io] {
    print_result(io, *format, connect(io)->get("/v1/environments"), render_environment_list);
    return 0;
  });
}

void add_get(CLI::App* env, CommandSet& commands) {
  auto flags = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand("get", "Show one environment with its conditions");
  sub->add_option("NAME", flags->name, "Environment name")->required();
  add_output_option(sub, flags->format);
  on_run(sub, commands, [flags, &io = commands.io] {
    print_result(io, flags->format, connect(io)->get(env_path(flags->name)), render_environment);
    return 0;
  });
}

void add_delete(CLI::App* env, CommandSet& commands) {
  auto flags = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand("delete", "Delete an environment (it must have no services)");
  sub->add_option("NAME", flags->name, "Environment name")->required();
  add_wait_options(sub, flags->wait, "the environment is gone");
  add_output_option(sub, flags->format);
  on_run(sub, commands, [flags, &io = commands.io] {
    auto api = connect(io);
    json operation = api->del(env_path(flags->name));
    if (!flags->wait.wait) {
      print_result(io, flags->format, operation, render_operation);
      return 0;
    }
    json done = wait_for(io, *api, operation, flags->wait);
    print_result(io, flags->format, done,
                 [&](const json&) { return "environment " + flags->name + " deleted\n"; });
    return 0;
  });
}

void add_join_token(CLI::App* env, CommandSet& commands) {
  auto flags = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand(
      "join-token", "Print a single-use token that lets `byoc agent` join an external environment");
  sub->add_option("NAME", flags->name, "Environment name")->required();
  add_output_option(sub, flags->format);
  on_run(sub, commands, [flags, &io = commands.io] {
    json answer = connect(io)->post(env_path(flags->name) + "/join-tokens", json::object());
    // Table form: the bare token on stdout so `> token-file` works; the rest is for the human.
    print_result(io, flags->format, answer, [](const json& value) { return cell(value, "token") + "\n"; });
    if (parse_output_format(flags->format) == OutputFormat::kTable)
      io.err << "single use, expires " << cell(answer, "expires_at")
             << "; give it to `byoc agent --join-token-file FILE` (or $BYOC_JOIN_TOKEN)\n";
    return 0;
  });
}

}  // namespace

void add_env_commands(CLI::App& app, CommandSet& commands) {
  auto* env = app.add_subcommand("env", "Manage environments");
  env->require_subcommand(1);
  add_create(env, commands);
  add_list(env, commands);
  add_get(env, commands);
  add_delete(env, commands);
  add_join_token(env, commands);
}

}  // namespace byoc::cli
