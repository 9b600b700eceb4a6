// `byoc service create|list|get|delete --env E`.
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

std::string service_path(const std::string& env, const std::string& name) {
  return "/v1/environments/" + path_segment(env) + "/services" +
         (name.empty() ? "" : "/" + path_segment(name));
}

struct CreateFlags {
  std::string environment;
  ServiceCreateArgs args;
  std::string clickhouse_version;
  int shards = 0, replicas = 0, cpu_millis = 0, memory_mib = 0;
  std::vector<std::string> allowed_ips;
  CLI::Option* version_option = nullptr;
  CLI::Option* shards_option = nullptr;
  CLI::Option* replicas_option = nullptr;
  CLI::Option* cpu_option = nullptr;
  CLI::Option* memory_option = nullptr;
  CLI::Option* allowed_option = nullptr;
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
    return result;
  }
};

struct NameFlags {
  std::string environment;
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
  f->allowed_option =
      sub->add_option("--allowed-ips", f->allowed_ips,
                      "Client CIDRs allowed to connect, comma-separated (default: loopback only)")
          ->delimiter(',')
          ->check(CLI::Validator([](std::string& value) { return ip_cidr_syntax_error(value); }, "CIDR"));
  add_wait_options(sub, f->wait, "the service answers queries");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    auto api = connect(io);
    json operation = api->post(service_path(f->environment, ""), service_create_body(f->to_args()));
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
    json result = done.contains("result") && done["result"].is_object()
                      ? done["result"]
                      : api->get(service_path(f->environment, f->args.name));
    if (!password.empty()) result["password"] = password;
    print_result(io, f->format, result, render_service);
    return 0;
  });
}

void add_list(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = service->add_subcommand("list", "List services (of one environment with --env)");
  sub->add_option("--env", f->environment, "Only this environment's services");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    std::string path = "/v1/services";
    if (!f->environment.empty()) path += "?environment=" + path_segment(f->environment);
    print_result(io, f->format, connect(io)->get(path), render_service_list);
    return 0;
  });
}

void add_get(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = service->add_subcommand("get", "Show one service");
  sub->add_option("NAME", f->name, "Service name")->required();
  sub->add_option("--env", f->environment, "Its environment")->required();
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format, connect(io)->get(service_path(f->environment, f->name)), render_service);
    return 0;
  });
}

void add_delete(CLI::App* service, CommandSet& commands) {
  auto f = std::make_shared<NameFlags>();
  auto* sub = service->add_subcommand("delete", "Delete a service and its data");
  sub->add_option("NAME", f->name, "Service name")->required();
  sub->add_option("--env", f->environment, "Its environment")->required();
  add_wait_options(sub, f->wait, "the service is gone");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    auto api = connect(io);
    json operation = api->del(service_path(f->environment, f->name));
    if (!f->wait.wait) {
      print_result(io, f->format, operation, render_operation);
      return 0;
    }
    json done = wait_for(io, *api, operation, f->wait);
    print_result(io, f->format, done,
                 [&](const json&) { return "service " + f->environment + "/" + f->name + " deleted\n"; });
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
  add_delete(service, commands);
}

}  // namespace byoc::cli
