#include "cli/command.h"

#include "cli/config.h"

namespace byoc::cli {
using nlohmann::json;

void on_run(CLI::App* sub, CommandSet& commands, Action fn, std::function<void()> check) {
  sub->callback([&commands, fn = std::move(fn), check = std::move(check)] {
    if (check) check();
    commands.action = fn;
  });
}

void add_output_option(CLI::App* sub, std::string& format) {
  format = "table";
  sub->add_option("-o,--output", format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
}

void add_wait_options(CLI::App* sub, WaitFlags& flags, const std::string& what) {
  sub->add_flag("--wait", flags.wait, "Wait until " + what + ", showing the operation's steps");
  sub->add_option("--timeout", flags.timeout_seconds, "With --wait: give up after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void add_organization_option(CLI::App* sub, std::string& organization) {
  sub->add_option("--organization", organization,
                  "Organisation to act in (admins and vendor staff; default: default; customers: their own)");
}

std::unique_ptr<ApiClient> connect(const Io& io) {
  auto path = config_path(io.env);
  return std::make_unique<ApiClient>(resolve_connection(read_config(path), io.env), io.transport);
}

void print_result(Io& io, const std::string& format, const json& value,
                  const std::function<std::string(const json&)>& render) {
  io.out << (parse_output_format(format) == OutputFormat::kJson ? render_json(value) : render(value))
         << std::flush;
}

json wait_for(Io& io, ApiClient& api, const json& operation, const WaitFlags& flags) {
  std::string id = cell(operation, "id");
  if (id.empty()) throw Error::Internal("the server's answer carries no operation id");
  ProgressPrinter progress(io.err, io.err_is_tty);
  WaitOptions options{io.clock};
  options.timeout = std::chrono::seconds(flags.timeout_seconds);
  return wait_for_operation(api, id, progress, options);
}

json operation_result(ApiClient& api, const json& done, const std::string& path) {
  return done.contains("result") && done["result"].is_object() ? done["result"] : api.get(path);
}

void finish_operation(Io& io, ApiClient& api, const json& operation, const WaitFlags& wait, const std::string& format,
                      const std::function<void(const json& done)>& print_done) {
  if (!wait.wait) {
    print_result(io, format, operation, render_operation);
    return;
  }
  print_done(wait_for(io, api, operation, wait));
}

}  // namespace byoc::cli
