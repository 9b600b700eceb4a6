// `byoc env create|list|get|update|verify|delete|retry|join-token|maintenance`.
#include "cli/maintenance_commands.h"
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

struct CreateFlags {
  EnvironmentCreateArgs args;
  std::string organization;
  int daemonset_cpu_millis = 0, daemonset_memory_mib = 0;
  CLI::Option* daemonset_cpu_option = nullptr;
  CLI::Option* daemonset_memory_option = nullptr;
  WaitFlags wait;
  std::string format;

  EnvironmentCreateArgs to_args() const {
    EnvironmentCreateArgs result = args;
    if (daemonset_cpu_option->count()) result.daemonset_cpu_millis = daemonset_cpu_millis;
    if (daemonset_memory_option->count()) result.daemonset_memory_mib = daemonset_memory_mib;
    return result;
  }
};

struct UpdateFlags {
  std::string name;
  std::string organization;
  std::vector<std::string> instance_types;
  bool all_instance_types = false;
  int daemonset_cpu_millis = 0, daemonset_memory_mib = 0;
  CLI::Option* types_option = nullptr;
  CLI::Option* all_types_option = nullptr;
  CLI::Option* daemonset_cpu_option = nullptr;
  CLI::Option* daemonset_memory_option = nullptr;
  std::string format;
  std::string account_id, role_name;

  EnvironmentUpdateArgs to_args() const {
    EnvironmentUpdateArgs result;
    result.account_id = account_id;
    result.role_name = role_name;
    if (types_option->count()) result.instance_types = instance_types;
    if (all_instance_types) result.instance_types = std::vector<std::string>{};
    if (daemonset_cpu_option->count()) result.daemonset_cpu_millis = daemonset_cpu_millis;
    if (daemonset_memory_option->count()) result.daemonset_memory_mib = daemonset_memory_mib;
    return result;
  }
};

struct NameFlags {
  std::string name;
  std::string organization;
  WaitFlags wait;
  std::string format;
};

// Rejects `--instance-types ''` (CLI11 itself drops the empty items of "a,,b"),
// saying `if_empty`; which names are real instance types is the server's call.
CLI::Validator instance_type_syntax(const std::string& if_empty) {
  return CLI::Validator([if_empty](std::string& value) { return value.empty() ? if_empty : std::string(); },
                        "TYPE");
}

void add_create(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<CreateFlags>();
  auto* sub = env->add_subcommand("create", "Create an environment (the place services run in)");
  sub->add_option("NAME", f->args.name, "Environment name (DNS label)")->required();
  // The server knows its clouds (`byoc cloud list`); only the shape is checked here.
  sub->add_option("--cloud", f->args.cloud, "Where it runs: a cloud of `byoc cloud list` (local, external, aws)")
      ->required()
      ->check(CLI::Validator(
          [](std::string& value) {
            bool ok = !value.empty() && value.size() <= 63 &&
                      value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
            return ok ? std::string() : "a cloud name is lower-case letters, digits and '-' (see `byoc cloud list`)";
          },
          "CLOUD"));
  sub->add_option("--cidr", f->args.cidr, "Private IPv4 range for the environment, e.g. 10.0.0.0/16")
      ->required()
      ->check(CLI::Validator([](std::string& value) { return ipv4_cidr_syntax_error(value); }, "CIDR"));
  sub->add_option("--region", f->args.region, "Cloud region (default: the cloud's own)");
  sub->add_option("--zones", f->args.zones, "Availability zones, comma-separated (default: a)")
      ->delimiter(',');
  sub->add_option("--instance-types", f->args.instance_types,
                  "aws: EC2 types replicas may run on, comma-separated (default: every type in the "
                  "catalogue); see `byoc profile list`")
      ->delimiter(',')
      ->check(instance_type_syntax("no instance type given (leave --instance-types out for all of them)"));
  f->daemonset_cpu_option =
      sub->add_option("--daemonset-cpu-millis", f->daemonset_cpu_millis,
                      "aws: CPU every node keeps for DaemonSets, in millicores (default 0)")
          ->check(CLI::NonNegativeNumber);
  f->daemonset_memory_option =
      sub->add_option("--daemonset-memory-mib", f->daemonset_memory_mib,
                      "aws: memory every node keeps for DaemonSets, in MiB (default 0)")
          ->check(CLI::NonNegativeNumber);
  sub->add_option("--account-id", f->args.account_id,
                  "aws: the customer's 12-digit AWS account id (may be given later with `env update`)");
  sub->add_option("--role-name", f->args.role_name,
                  "aws: the onboarding role's name in that account (default ByocManagementRole)");
  add_organization_option(sub, f->organization);
  add_wait_options(sub, f->wait, "the environment is ready");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    auto api = connect(io);
    json operation = api->post(with_organization(environment_path(""), f->organization),
                               environment_create_body(f->to_args()));
    finish_operation(io, *api, operation, f->wait, f->format, [&](const json& done) {
      std::string path = with_organization(environment_path(f->args.name), f->organization);
      print_result(io, f->format, operation_result(*api, done, path), render_environment);
    });
    return 0;
  });
}

void add_list(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand("list", "List environments");
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format, connect(io)->get(with_organization(environment_path(""), f->organization)),
                 render_environment_list);
    return 0;
  });
}

void add_get(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand("get", "Show one environment with its conditions");
  sub->add_option("NAME", f->name, "Environment name")->required();
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format,
                 connect(io)->get(with_organization(environment_path(f->name), f->organization)),
                 render_environment);
    return 0;
  });
}

void add_update(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<UpdateFlags>();
  auto* sub = env->add_subcommand(
      "update",
      "Change an aws environment's capacity settings (instance types, DaemonSet reservations) or, while it awaits "
      "the customer's role, its account");
  sub->add_option("NAME", f->name, "Environment name")->required();
  f->types_option =
      sub->add_option("--instance-types", f->instance_types,
                      "EC2 types replicas may run on, comma-separated (replaces the list)")
          ->delimiter(',')
          ->check(instance_type_syntax("no instance type given (for all, use --all-instance-types)"));
  f->all_types_option =
      sub->add_flag("--all-instance-types", f->all_instance_types, "Allow every type in the catalogue again")
          ->excludes(f->types_option);
  // The server replaces the DaemonSet reservation as a whole: a lone value would zero the other.
  f->daemonset_cpu_option =
      sub->add_option("--daemonset-cpu-millis", f->daemonset_cpu_millis,
                      "CPU every node keeps for DaemonSets, in millicores (with --daemonset-memory-mib)")
          ->check(CLI::NonNegativeNumber);
  f->daemonset_memory_option =
      sub->add_option("--daemonset-memory-mib", f->daemonset_memory_mib,
                      "Memory every node keeps for DaemonSets, in MiB (with --daemonset-cpu-millis)")
          ->check(CLI::NonNegativeNumber);
  f->daemonset_cpu_option->needs(f->daemonset_memory_option);
  f->daemonset_memory_option->needs(f->daemonset_cpu_option);
  sub->add_option("--account-id", f->account_id, "The customer's 12-digit AWS account id");
  sub->add_option("--role-name", f->role_name, "The onboarding role's name in that account");
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  auto check = [f] {
    if (!f->types_option->count() && !f->all_instance_types && !f->daemonset_cpu_option->count() &&
        f->account_id.empty() && f->role_name.empty())
      throw CLI::ValidationError(
          "nothing to change: give --instance-types, --all-instance-types, --daemonset-cpu-millis with "
          "--daemonset-memory-mib, --account-id or --role-name");
  };
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        json environment = connect(io)->patch(with_organization(environment_path(f->name), f->organization),
                                              environment_update_body(f->to_args()));
        print_result(io, f->format, environment, render_environment);
        return 0;
      },
      check);
}

void add_verify(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand(
      "verify", "Check now that the customer's role is in place and enough (aws: AssumeRole and the pre-flight); "
                "exit 1 when something is missing");
  sub->add_option("NAME", f->name, "Environment name")->required();
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    json check =
        connect(io)->post(with_organization(environment_path(f->name) + "/verify", f->organization), json::object());
    print_result(io, f->format, check, render_access_check);
    return check.value("granted", false) ? 0 : 1;
  });
}

void add_delete(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand("delete", "Delete an environment (it must have no services)");
  sub->add_option("NAME", f->name, "Environment name")->required();
  add_organization_option(sub, f->organization);
  add_wait_options(sub, f->wait, "the environment is gone");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    auto api = connect(io);
    json operation = api->del(with_organization(environment_path(f->name), f->organization));
    finish_operation(io, *api, operation, f->wait, f->format, [&](const json& done) {
      print_result(io, f->format, done, [&](const json&) { return "environment " + f->name + " deleted\n"; });
    });
    return 0;
  });
}

void add_retry(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand("retry", "Drive a FAILED environment again (the cloud action that failed)");
  sub->add_option("NAME", f->name, "Environment name")->required();
  add_organization_option(sub, f->organization);
  add_wait_options(sub, f->wait, "the environment is ready");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    auto api = connect(io);
    json operation =
        api->post(with_organization(environment_path(f->name) + "/retry", f->organization), json::object());
    finish_operation(io, *api, operation, f->wait, f->format, [&](const json& done) {
      std::string path = with_organization(environment_path(f->name), f->organization);
      print_result(io, f->format, operation_result(*api, done, path), render_environment);
    });
    return 0;
  });
}

void add_join_token(CLI::App* env, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = env->add_subcommand(
      "join-token", "Print a single-use token that lets `byoc agent` join an external environment");
  sub->add_option("NAME", f->name, "Environment name")->required();
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    json answer = connect(io)->post(
        with_organization(environment_path(f->name) + "/join-tokens", f->organization), json::object());
    // Table form: the bare token on stdout so `> token-file` works; the rest is for the human.
    print_result(io, f->format, answer, [](const json& value) { return cell(value, "token") + "\n"; });
    if (parse_output_format(f->format) == OutputFormat::kTable)
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
  add_update(env, commands);
  add_verify(env, commands);
  add_delete(env, commands);
  add_retry(env, commands);
  add_join_token(env, commands);
  add_maintenance_commands(env, commands, false);
}

}  // namespace byoc::cli
