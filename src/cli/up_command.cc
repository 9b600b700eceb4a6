#include "cli/up_command.h"

#include <csignal>
#include <cstring>

#include "base/error.h"
#include "base/files.h"
#include "cli/config.h"
#include "cli/endpoint_query.h"
#include "cli/local_server.h"
#include "cli/stop_signal.h"
#include "cli/up_summary.h"

namespace byoc::cli {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kDemo = "demo";
constexpr const char* kDemoCidr = "10.0.0.0/16";

// One deadline and one cancel flag for everything `up` waits on.
class Waiter {
 public:
  Waiter(const Clock& clock, std::chrono::seconds timeout, const StopSignal& stop)
      : clock_(clock), deadline_(clock.monotonic_time() + timeout), stop_(stop) {}

  void check(const std::string& doing) const {
    if (stop_.requested()) throw Error(ErrorKind::kUnavailable, "cancelled", "interrupted while " + doing);
    if (clock_.monotonic_time() >= deadline_)
      throw Error(ErrorKind::kUnavailable, "timeout", "timed out while " + doing);
  }
  std::chrono::milliseconds left() const {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_.monotonic_time());
    return std::max(left, std::chrono::milliseconds(1));
  }
  std::function<bool()> cancelled() const {
    return [this] { return stop_.requested(); };
  }
  const Clock& clock() const { return clock_; }

 private:
  const Clock& clock_;
  MonotonicTime deadline_;
  const StopSignal& stop_;
};

// How to reach up's own server with the ordinary CLI, for error hints.
std::string cli_hint(const LocalServer& server) {
  return "BYOC_SERVER=" + server.url() + " BYOC_CA_FILE=" + (server.server_dir() / "ca.pem").string() +
         " BYOC_TOKEN=$(cat " + (server.server_dir() / "admin.token").string() + ") byoc";
}

struct Resource {
  std::string kind;        // "environment" | "service"
  std::string path;        // GET/DELETE path of the object
  std::string collection;  // POST path
  json body;
  std::string delete_command;  // for the FAILED hint
};

// GETs the object until it is READY, creating it (and waiting for the
// operation) when it doesn't exist. `on_created` sees the 202 answer before
// anything else happens (the service password is only in there).
json ensure_ready(ApiClient& api, const Resource& resource, ProgressPrinter& progress, const Waiter& waiter,
                  const std::function<void(const json&)>& on_created) {
  std::string last_state;
  std::string what = resource.kind + " " + kDemo;
  bool conflicted = false;  // a create answered 409: someone else created it, or the server is confused
  while (true) {
    waiter.check("waiting for " + what);
    json current;
    try {
      current = api.get(resource.path);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kNotFound) throw;
      progress.note("creating " + what);
      json operation;
      try {
        operation = api.post(resource.collection, resource.body);
      } catch (const Error& conflict) {
        // Created meanwhile (another `byoc up`): look again, once. A second
        // "not found" after a conflict is an answer we can't act on.
        if (conflict.kind() != ErrorKind::kConflict || conflicted) throw;
        conflicted = true;
        waiter.clock().sleep_for(500ms);
        continue;
      }
      if (on_created) on_created(operation);
      WaitOptions options{waiter.clock()};
      options.timeout = waiter.left();
      options.cancelled = waiter.cancelled();
      wait_for_operation(api, cell(operation, "id"), progress, options);
      continue;
    }
    std::string state = cell(current, "state");
    if (state == "READY") {
      if (last_state.empty()) progress.note(what + " is READY");
      return current;
    }
    if (state == "FAILED") {
      std::string reason = cell(current, "reason");
      throw Error::Unavailable(what + " is FAILED" + (reason.empty() ? "" : " (" + reason + ")") +
                               "; delete it with `" + resource.delete_command + "` and run byoc up again");
    }
    if (state != last_state) progress.note(what + ": " + state + ", waiting");
    last_state = state;
    waiter.clock().sleep_for(500ms);
  }
}

void wait_until_answers(const std::string& endpoint, const std::string& ca_pem, const std::string& password,
                        ProgressPrinter& progress, const Waiter& waiter) {
  progress.note("waiting for " + endpoint + " to answer SELECT 1");
  std::string last_error = "no answer yet";
  while (true) {
    try {
      waiter.check("waiting for " + endpoint + " to answer SELECT 1 (last: " + last_error + ")");
    } catch (const Error& e) {
      if (e.code() == "cancelled") throw;
      throw Error::Unavailable("the service endpoint did not answer SELECT 1: " + last_error);
    }
    try {
      auto response = query_endpoint(endpoint, ca_pem, "default", password, "SELECT 1", 10s);
      std::string body = response.body;
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
      if (response.status == 200 && body == "1") return;
      last_error = "HTTP " + std::to_string(response.status) + ": " + body.substr(0, body.find('\n'));
    } catch (const Error& e) {
      last_error = e.what();
    }
    waiter.clock().sleep_for(500ms);
  }
}

std::string ca_of(const json& service, const json& environment) {
  if (!cell(service, "ca_pem").empty()) return cell(service, "ca_pem");
  return cell(environment, "ca_pem");
}

std::string signal_name(int number) {
  const char* name = sigabbrev_np(number);
  return name ? std::string("SIG") + name : "signal " + std::to_string(number);
}

// Everything between "server is up" and "ready": returns what to print.
UpSummary bring_up_demo(LocalServer& server, const fs::path& dir, ProgressPrinter& progress,
                        const Waiter& waiter) {
  ApiClient api(server.credentials());
  const std::string env_path = std::string("/v1/environments/") + kDemo;
  Resource environment_spec{"environment", env_path, "/v1/environments",
                            json{{"name", kDemo}, {"cloud", "local"}, {"cidr", kDemoCidr}},
                            cli_hint(server) + " env delete demo --wait"};
  ensure_ready(api, environment_spec, progress, waiter, nullptr);

  UpSummary summary;
  summary.password_file = dir / "demo.password";
  Resource service_spec{"service", env_path + "/services/" + kDemo, env_path + "/services",
                        json{{"name", kDemo}}, cli_hint(server) + " service delete demo --env demo --wait"};
  json service = ensure_ready(api, service_spec, progress, waiter, [&](const json& answer) {
    // Shown once by the server: keep it before anything else can fail.
    summary.password = cell(answer, "password");
    if (summary.password.empty())
      throw Error::Internal("the server's answer to the service create has no password");
    files::write_atomic(summary.password_file, summary.password + "\n", 0600);
    progress.note("saved the password of service demo in " + summary.password_file.string());
  });
  summary.endpoint = cell(service, "endpoint");
  if (summary.endpoint.empty()) throw Error::Internal("service demo is READY but has no endpoint");
  summary.native_endpoint = cell(service, "native_endpoint");

  std::string password = summary.password;
  if (password.empty()) {
    auto saved = files::read_if_exists(summary.password_file);
    if (saved) password = saved->substr(0, saved->find_last_not_of("\r\n") + 1);
  }

  // The environment's CA is made by its agent; ask again now that the service runs.
  std::string ca_pem = ca_of(service, api.get(env_path));
  if (ca_pem.empty()) {
    progress.note(
        "note: the server publishes no CA for environment demo: cannot check the endpoint with a query");
  } else {
    summary.ca_file = dir / "demo-ca.pem";
    files::write_atomic(summary.ca_file, ca_pem, 0644);
    if (!summary.native_endpoint.empty()) {
      summary.client_config = dir / "clickhouse-client.xml";
      files::write_atomic(summary.client_config, render_clickhouse_client_config(summary.ca_file), 0644);
    }
    if (password.empty())
      progress.note("note: " + summary.password_file.string() +
                    " is missing: cannot check the endpoint with a query");
    else
      wait_until_answers(summary.endpoint, ca_pem, password, progress, waiter);
  }
  return summary;
}

// Saves the CLI's login for the server `up` runs, as `kind` sets the
// kubectl context, so plain `byoc …` commands reach it from any shell.
// Returns its URL.
std::string log_cli_in(const LocalServer& server, const Io& io, ProgressPrinter& progress) {
  fs::path path = config_path(io.env);
  ClientConfig config = server.credentials();
  std::optional<ClientConfig> previous;
  try {
    previous = read_config(path);
  } catch (const Error&) {
    // An unreadable login is replaced like any other.
  }
  if (previous == config) return config.server;
  std::string kept;
  if (previous && previous->server != config.server) {
    // Another login (perhaps a token shown only once): kept beside, not lost.
    fs::path backup = path.string() + ".before-up";
    write_config(backup, *previous);
    kept = "; the login to " + previous->server + " is kept in " + backup.string();
  }
  write_config(path, config);
  progress.note("logged the CLI in to " + config.server + " (" + path.string() + ")" + kept);
  return config.server;
}

}  // namespace

fs::path default_up_dir(const EnvLookup& env) {
  if (auto xdg = env("XDG_DATA_HOME")) return fs::path(*xdg) / "byoc";
  auto home = env("HOME");
  if (!home)
    throw Error::Invalid("no_home", "neither XDG_DATA_HOME nor HOME is set: pass --data-dir", "data-dir");
  return fs::path(*home) / ".local" / "share" / "byoc";
}

int run_up(const UpOptions& options, Io& io) {
  StopSignal stop;
  fs::path dir =
      fs::absolute(options.data_dir.empty() ? default_up_dir(io.env) : options.data_dir).lexically_normal();
  files::ensure_dir(dir, 0700);
  ProgressPrinter progress(io.err, io.err_is_tty);
  Waiter waiter(io.clock, options.timeout, stop);
  std::unique_ptr<LocalServer> server;
  std::string failure;
  try {
    LocalServer::Options server_options;
    server_options.dir = dir;
    server_options.executable = fs::read_symlink("/proc/self/exe");
    server_options.cancelled = waiter.cancelled();
    server = LocalServer::start_or_reuse(server_options, progress);
    std::string logged_in_to = log_cli_in(*server, io, progress);
    UpSummary summary = bring_up_demo(*server, dir, progress, waiter);
    summary.logged_in_to = logged_in_to;
    progress.end_line();
    io.out << render_up_summary(summary) << std::flush;
    while (!stop.requested()) {
      if (auto status = server->exit_status())
        throw Error::Unavailable("byoc server exited on its own (status " + std::to_string(*status) +
                                 "): " + last_log_line(server->log_file()));
      io.clock.sleep_for(200ms);
    }
  } catch (const std::exception& e) {
    if (!stop.requested()) failure = error_line(e);
  }
  progress.end_line();
  if (stop.requested()) progress.note("received " + signal_name(stop.signal_number()) + ": stopping");
  if (server) server->stop(progress);
  if (!failure.empty()) {
    io.err << failure << "\n" << std::flush;
    return 1;
  }
  return 0;
}

void add_up_command(CLI::App& app, CommandSet& commands) {
  struct Flags {
    std::string data_dir;
    int timeout_seconds = 600;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = app.add_subcommand(
      "up", "Run a server, a local environment and a ClickHouse service on this machine until Ctrl-C");
  sub->add_option("--data-dir", f->data_dir,
                  "Where everything lives (default $XDG_DATA_HOME/byoc or ~/.local/share/byoc)");
  sub->add_option("--timeout", f->timeout_seconds, "Give up starting after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  on_run(sub, commands, [f, &io = commands.io] {
    UpOptions options;
    options.data_dir = f->data_dir;
    options.timeout = std::chrono::seconds(f->timeout_seconds);
    return run_up(options, io);
  });
}

}  // namespace byoc::cli
