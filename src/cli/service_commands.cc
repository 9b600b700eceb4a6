// `byoc service create|list|get|update|delete|maintenance --env E`.
#include "cli/maintenance_commands.h"
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

// `if_empty`: what to say about an empty value (`--allowed-ips ''`).
CLI::Validator cidr_syntax(const std::string& if_empty) {
  return CLI::Validator(
      [if_empty](std::string& value) { return value.empty() ? if_empty : ip_cidr_syntax_error(value); },
      "CIDR");
}

struct CreateFlags {
  std::string environment;
  std::string organization;
  ServiceCreateArgs args;
  std::string clickhouse_version;
  int shards = 0, replicas = 0, cpu_millis = 0, memory_mib = 0;
  std::vector<std::string> allowed_ips;
  std::string profile;
  CLI::Option* version_option = nullptr;
  CLI::Option* shards_option = nullptr;
  CLI::Option* replicas_option = nullptr;
  CLI::Option* cpu_option = nullptr;
  CLI::Option* memory_option = nullptr;
  CLI::Option* allowed_option = nullptr;
  CLI::Option* profile_option = nullptr;
  WaitFlags wait;
  std::string format;

  // Flags the user gave, as optionals: the server owns the defaults.
  ServiceCreateArgs to_args() const {
    ServiceCreateArgs result = args;
    if (version_option->count()) result.clickhouse_version = clickhouse_version;
    if (shards_option->count()) result.shards = shards;
    if (replicas_option->count()) result.replicas = replicas;
    if (cpu_option->count()) result.cpu_millis = cpu_millis;
    if (memory_option->count()) result.memory_mib = memory_mib;
    if (allowed_option->count()) result.allowed_ips = allowed_ips;
    if (profile_option->count()) result.profile = profile;
    return result;
  }
};

struct UpdateFlags {
  std::string environment;
  std::string organization;
  std::string name;
  std::vector<std::string> allowed_ips;
  bool loopback_only = false;
  std::string profile;
  int cpu_millis = 0, memory_mib = 0, replicas = 0;
  bool at_window = false;
  CLI::Option* allowed_option = nullptr;
  CLI::Option* profile_option = nullptr;
  CLI::Option* cpu_option = nullptr;
  CLI::Option* memory_option = nullptr;
  CLI::Option* replicas_option = nullptr;
  WaitFlags wait;
  std::string format;

  bool resizes() const {
    return profile_option->count() || cpu_option->count() || memory_option->count() || replicas_option->count();
  }
  ServiceUpdateArgs to_args() const {
    ServiceUpdateArgs result;
    if (allowed_option->count()) result.allowed_ips = allowed_ips;
    if (loopback_only) result.allowed_ips = std::vector<std::string>{};
    if (profile_option->count()) result.profile = profile;
    if (cpu_option->count()) result.cpu_millis = cpu_millis;
    if (memory_option->count()) result.memory_mib = memory_mib;
    if (replicas_option->count()) result.replicas = replicas;
    if (at_window) result.when = "window";
    return result;
  }
};

struct NameFlags {
  std::string environment;
  std::string organization;
  std::string name;
  WaitFlags wait;
  std::string format;
};

void add_create(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<CreateFlags>();
  auto* sub = service->add_subcommand("create", "Create a ClickHouse service in an environment");
  sub->add_option("NAME", f->args.name, "Service name (DNS label)")->required();
  sub->add_option("--env", f->environment, "Environment to create it in")->required();
  f->version_option = sub->add_option("--clickhouse-version", f->clickhouse_version, "Default 18.16.1");
  f->shards_option = sub->add_option("--shards", f->shards, "Shards, 1-64 (default 1)");
  f->replicas_option = sub->add_option("--replicas", f->replicas, "Replicas per shard, 1-16 (default 1)");
  f->cpu_option =
      sub->add_option("--cpu-millis", f->cpu_millis, "CPU per replica in millicores (default 1000)");
  f->memory_option =
      sub->add_option("--memory-mib", f->memory_mib, "Memory per replica in MiB (default 2048)");
  f->profile_option =
      sub->add_option("--profile", f->profile,
                      "Size each replica by one of the environment's profiles (`byoc profile list`) "
                      "instead of --cpu-millis/--memory-mib")
          ->excludes(f->cpu_option)
          ->excludes(f->memory_option);
  f->allowed_option =
      sub->add_option("--allowed-ips", f->allowed_ips,
                      "Client CIDRs allowed to connect, comma-separated (default: loopback only)")
          ->delimiter(',')
          ->check(cidr_syntax("no CIDR given (leave --allowed-ips out for loopback only)"));
  add_organization_option(sub, f->organization);
  add_wait_options(sub, f->wait, "the service answers queries");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    auto api = connect(io);
    json operation = api->post(with_organization(service_path(f->environment, ""), f->organization),
                               service_create_body(f->to_args()));
    // The password exists only in this answer: keep it for whatever we print last.
    std::string password = cell(operation, "password");
    if (!f->wait.wait) {
      print_result(io, f->format, operation, render_operation);
      return 0;
    }
    json done;
    try {
      done = wait_for(io, *api, operation, f->wait);
    } catch (const std::exception&) {
      if (!password.empty()) io.err << "the service's password (shown only once) is: " << password << "\n";
      throw;
    }
    json result = operation_result(
        *api, done, with_organization(service_path(f->environment, f->args.name), f->organization));
    if (!password.empty()) result["password"] = password;
    print_result(io, f->format, result, render_service);
    return 0;
  });
}

void add_list(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = service->add_subcommand("list", "List services (of one environment with --env)");
  sub->add_option("--env", f->environment, "Only this environment's services");
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    std::string path =
        with_organization(with_query("/v1/services", "environment", f->environment), f->organization);
    print_result(io, f->format, connect(io)->get(path), render_service_list);
    return 0;
  });
}

void add_get(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = service->add_subcommand("get", "Show one service");
  sub->add_option("NAME", f->name, "Service name")->required();
  sub->add_option("--env", f->environment, "Its environment")->required();
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format,
                 connect(io)->get(with_organization(service_path(f->environment, f->name), f->organization)),
                 render_service);
    return 0;
  });
}

void add_update(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<UpdateFlags>();
  auto* sub = service->add_subcommand(
      "update", "Change a service's client allowlist, or resize or scale it (one replica at a time)");
  sub->add_option("NAME", f->name, "Service name")->required();
  sub->add_option("--env", f->environment, "Its environment")->required();
  f->allowed_option =
      sub->add_option("--allowed-ips", f->allowed_ips,
                      "Client CIDRs allowed to connect, comma-separated (replaces the list)")
          ->delimiter(',')
          ->check(cidr_syntax("no CIDR given (for loopback only, use --allowed-ips-loopback-only)"));
  sub->add_flag("--allowed-ips-loopback-only", f->loopback_only,
                "Empty the allowlist: only clients on the environment's loopback may connect")
      ->excludes(f->allowed_option);
  f->profile_option = sub->add_option("--profile", f->profile, "Size each replica by one of the environment's profiles");
  f->cpu_option = sub->add_option("--cpu-millis", f->cpu_millis, "CPU per replica in millicores (a custom size)")
                      ->excludes(f->profile_option);
  f->memory_option = sub->add_option("--memory-mib", f->memory_mib, "Memory per replica in MiB (a custom size)")
                         ->excludes(f->profile_option);
  f->replicas_option = sub->add_option("--replicas", f->replicas, "Replicas per shard, 1-16 (shards stay)");
  sub->add_flag("--in-window", f->at_window,
                "Apply the resize or scale in the service's next maintenance window, not now");
  add_organization_option(sub, f->organization);
  add_wait_options(sub, f->wait, "the change is applied");
  add_output_option(sub, f->format);
  auto check = [f] {
    if (!f->allowed_option->count() && !f->loopback_only && !f->resizes())
      throw CLI::RequiredError(
          "--allowed-ips, --allowed-ips-loopback-only, --profile, --cpu-millis, --memory-mib or --replicas");
    if (f->at_window && !f->resizes())
      throw CLI::ValidationError("--in-window", "only a resize or a scale can wait for the window");
  };
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        auto api = connect(io);
        std::string path = with_organization(service_path(f->environment, f->name), f->organization);
        json operation = api->patch(path, service_update_body(f->to_args()));
        finish_operation(io, *api, operation, f->wait, f->format, [&](const json& done) {
          print_result(io, f->format, operation_result(*api, done, path), render_service);
        });
        return 0;
      },
      check);
}

void add_delete(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = service->add_subcommand("delete", "Delete a service and its data");
  sub->add_option("NAME", f->name, "Service name")->required();
  sub->add_option("--env", f->environment, "Its environment")->required();
  add_organization_option(sub, f->organization);
  add_wait_options(sub, f->wait, "the service is gone");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    auto api = connect(io);
    json operation = api->del(with_organization(service_path(f->environment, f->name), f->organization));
    finish_operation(io, *api, operation, f->wait, f->format, [&](const json& done) {
      print_result(io, f->format, done,
                   [&](const json&) { return "service " + f->environment + "/" + f->name + " deleted\n"; });
    });
    return 0;
  });
}

}  // namespace

void add_service_commands(CLI::App& app, CommandSet& commands) {
  auto* service = app.add_subcommand("service", "Manage ClickHouse services");
  service->require_subcommand(1);
  add_create(service, commands);
  add_list(service, commands);
  add_get(service, commands);
  add_update(service, commands);
  add_delete(service, commands);
  add_maintenance_commands(service, commands, true);
}

}  // namespace byoc::cli
