#include "cli/local_server.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "cli/process_scan.h"

namespace byoc::cli {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kLeftoverWait = 30s;
constexpr auto kLeftoverGrace = 10s;

// Only programs byoc itself starts are ever signalled as leftovers: a user's
// `tail -f DIR/server/...` also names the directory and must be left alone.
bool started_by_byoc(const ProcessInfo& process) {
  static const std::set<std::string> kPrograms = {"byoc", "clickhouse", "clickhouse-server", "nginx",
                                                  "java", "prometheus", "alertmanager"};
  return kPrograms.count(process.executable) > 0;
}

std::vector<ProcessInfo> byoc_processes_under(const fs::path& dir) {
  std::vector<ProcessInfo> result;
  for (auto& process : processes_under(dir))
    if (started_by_byoc(process)) result.push_back(std::move(process));
  return result;
}

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

int port_of(const std::string& url) {
  auto colon = url.rfind(':');
  if (colon == std::string::npos) return 0;
  try {
    return std::stoi(url.substr(colon + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

std::string last_log_line(const fs::path& path) {
  std::optional<std::string> text;
  try {
    text = files::read_if_exists(path);
  } catch (const std::exception&) {
    return "";
  }
  if (!text) return "";
  std::string trimmed = trim(*text);
  auto newline = trimmed.rfind('\n');
  return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

std::unique_ptr<LocalServer> LocalServer::start_or_reuse(const Options& options, ProgressPrinter& progress) {
  std::unique_ptr<LocalServer> server(new LocalServer(options));
  files::ensure_dir(server->server_dir(), 0700);
  try {
    if (server->try_reuse(progress)) return server;

    int port = 0;
    if (auto saved = files::read_if_exists(options.dir / "up.json")) {
      json state = json::parse(*saved, nullptr, false);
      if (state.is_object() && state.contains("port") && state["port"].is_number_integer())
        port = state["port"].get<int>();
    }
    if (port > 0 && proc::port_accepts("127.0.0.1", port)) {
      progress.note("port " + std::to_string(port) + " of the last run is taken; picking another");
      port = 0;
    }
    if (server->try_start("127.0.0.1:" + std::to_string(port), progress)) return server;
    // The remembered port may have been taken in between, or another `byoc up`
    // may have started a server on this directory at the same moment.
    if (server->try_reuse(progress)) return server;
    if (port != 0 && server->try_start("127.0.0.1:0", progress)) return server;
    if (server->try_reuse(progress)) return server;
    throw Error::Unavailable("byoc server exited (status " + std::to_string(server->exit_status_) +
                             ") before it was ready: " + last_log_line(server->log_file()) +
                             " (log: " + server->log_file().string() + ")");
  } catch (...) {
    server->stop(progress);
    throw;
  }
}

LocalServer::~LocalServer() {
  if (!owned_ || exited_) return;
  try {
    ProgressPrinter progress(std::cerr, false);
    stop(progress);
  } catch (const std::exception& e) {
    std::cerr << "warning: stopping byoc server " << pid_ << ": " << e.what() << "\n";
  }
}

void LocalServer::check_cancelled() {
  if (options_.cancelled && options_.cancelled())
    throw Error(ErrorKind::kUnavailable, "cancelled", "interrupted while starting the byoc server");
}

bool LocalServer::try_reuse(ProgressPrinter& progress) {
  fs::path lock = server_dir() / "server.lock";
  if (!proc::FileLock::is_held(lock)) return false;
  progress.note("a byoc server already runs on " + server_dir().string() + "; using it");
  bool reused = false;
  bool done = proc::wait_for(options_.start_timeout, [&] {
    check_cancelled();
    if (auto url = healthy_url(0)) {
      url_ = *url;
      owned_ = false;
      return reused = true;
    }
    return !proc::FileLock::is_held(lock);
  });
  if (!done)
    throw Error::Unavailable("a byoc server holds " + lock.string() + " but " +
                             (url_.empty() ? "never wrote its URL" : url_ + "/healthz does not answer") +
                             (last_probe_error_.empty() ? "" : ": " + last_probe_error_));
  return reused;
}

bool LocalServer::try_start(const std::string& listen, ProgressPrinter& progress) {
  progress.note("starting byoc server on " + listen + " (log: " + log_file().string() + ")");
  proc::SpawnOptions spawn;
  spawn.argv = {options_.executable.string(), "server", "--listen", listen, "--data-dir",
                server_dir().string()};
  spawn.output = log_file();
  spawn.new_session = true;  // Ctrl-C reaches us, and we stop the server in order
  pid_ = proc::spawn(spawn);
  owned_ = true;
  exited_ = false;
  bool up = false;
  bool done = proc::wait_for(options_.start_timeout, [&] {
    check_cancelled();
    if (auto status = proc::try_reap(pid_)) {
      exited_ = true;
      exit_status_ = *status;
      owned_ = false;
      return true;
    }
    if (auto url = healthy_url(pid_)) {
      url_ = *url;
      remember_port();
      progress.note("byoc server " + url_ + " is up (pid " + std::to_string(pid_) + ")");
      return up = true;
    }
    return false;
  });
  if (!done)
    throw Error::Unavailable("byoc server did not answer /healthz in time" +
                             (last_probe_error_.empty() ? "" : " (" + last_probe_error_ + ")") +
                             "; log: " + log_file().string());
  return up;
}

std::optional<std::string> LocalServer::healthy_url(pid_t pid) {
  std::optional<std::string> text;
  std::optional<std::string> ca;
  try {
    text = files::read_if_exists(server_dir() / "server.json");
    ca = files::read_if_exists(server_dir() / "ca.pem");
  } catch (const std::exception&) {
    return std::nullopt;  // being written
  }
  if (!text || !ca) return std::nullopt;
  json state = json::parse(*text, nullptr, false);
  if (!state.is_object() || !state.contains("url") || !state["url"].is_string()) return std::nullopt;
  pid_t owner = state.contains("pid") && state["pid"].is_number_integer() ? state["pid"].get<pid_t>() : 0;
  // A server.json left by an earlier server must not be taken for the new one.
  if (pid != 0 && owner != pid) return std::nullopt;
  if (pid == 0 && (owner <= 0 || !proc::is_alive(owner))) return std::nullopt;
  std::string url = state["url"].get<std::string>();
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (pid == 0) pid_ = owner;
  try {
    http::Client client(http::TlsOptions{.ca_pem = *ca});
    http::Request request;
    request.url = url + "/healthz";
    request.timeout = 5s;
    auto response = client.send(request);
    if (response.status == 200) return url;
    last_probe_error_ = "GET /healthz answered " + std::to_string(response.status);
  } catch (const std::exception& e) {
    last_probe_error_ = e.what();
  }
  return std::nullopt;
}

void LocalServer::remember_port() {
  int port = port_of(url_);
  if (port > 0) files::write_atomic(options_.dir / "up.json", json{{"port", port}}.dump() + "\n", 0600);
}

ClientConfig LocalServer::credentials() const {
  ClientConfig config;
  config.server = url_;
  config.ca_pem = files::read(server_dir() / "ca.pem");
  config.token = trim(files::read(server_dir() / "admin.token"));
  if (config.token.empty()) throw Error::Internal((server_dir() / "admin.token").string() + " is empty");
  return config;
}

std::optional<int> LocalServer::exit_status() {
  if (!owned_ && !exited_) return std::nullopt;
  if (!exited_) {
    auto status = proc::try_reap(pid_);
    if (!status) return std::nullopt;
    exited_ = true;
    exit_status_ = *status;
  }
  return exit_status_;
}

bool LocalServer::stop(ProgressPrinter& progress) {
  if (!owned_) {
    if (!exited_ && pid_ > 0 && !url_.empty())
      progress.note("leaving byoc server " + url_ + " (pid " + std::to_string(pid_) +
                    ") running: this byoc up did not start it");
    return true;
  }
  bool clean = true;
  if (!exited_) {
    progress.note("stopping byoc server (pid " + std::to_string(pid_) + ")");
    clean =
        proc::terminate(pid_, std::chrono::duration_cast<std::chrono::milliseconds>(options_.stop_timeout));
    exited_ = true;
  }
  owned_ = false;
  // The server stops its agents and they their services; wait for them to be gone.
  auto left = byoc_processes_under(server_dir());
  if (!left.empty()) {
    progress.note("waiting for " + std::to_string(left.size()) + " process(es) the server started to exit");
    proc::wait_for(kLeftoverWait, [&] { return (left = byoc_processes_under(server_dir())).empty(); });
  }
  for (const auto& process : left) {
    progress.note("ending leftover process " + std::to_string(process.pid) + " (" + process.command + ")");
    proc::terminate(process.pid, kLeftoverGrace);
    clean = false;
  }
  if (clean) progress.note("stopped");
  return clean;
}

}  // namespace byoc::cli
