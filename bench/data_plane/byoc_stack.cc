#include "byoc_stack.h"

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "agent/runtimes/local/proc_table.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "interrupt.h"

namespace byoc::bench {
namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kEnvironment = "bench";

std::chrono::milliseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
}

// Polls `condition` (1 ms pause) until true or `timeout`.
bool poll(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!condition()) {
    throw_if_interrupted();
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

long rss_kib(pid_t pid) {
  auto status = files::read_if_exists("/proc/" + std::to_string(pid) + "/status");
  if (!status) return 0;
  auto at = status->find("VmRSS:");
  return at == std::string::npos ? 0 : std::stol(status->substr(at + 6));
}

std::string comm_of(pid_t pid) {
  std::string comm = files::read_if_exists("/proc/" + std::to_string(pid) + "/comm").value_or("");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

}  // namespace

ByocStack::ByocStack(fs::path byoc, fs::path dir)
    : byoc_(std::move(byoc)), dir_(std::move(dir)), home_(dir_ / "home"), data_(dir_ / "server") {
  files::ensure_dir(home_, 0700);
  proc::SpawnOptions spawn;
  spawn.argv = {byoc_.string(), "server", "--listen", "127.0.0.1:0", "--data-dir", data_.string()};
  spawn.env = {{"HOME", home_.string()}};
  spawn.unset_env = {"BYOC_SERVER", "BYOC_TOKEN", "BYOC_CA_FILE", "BYOC_JOIN_TOKEN"};
  spawn.output = dir_ / "server.log";
  server_ = proc::spawn(spawn);
  std::string url;
  if (!poll(
          [&] {
            json state =
                json::parse(files::read_if_exists(data_ / "server.json").value_or(""), nullptr, false);
            if (!state.is_object() || state.value("pid", 0) != server_) return false;
            url = state.value("url", "");
            return !url.empty();
          },
          std::chrono::seconds(60)))
    throw Error::Internal("byoc server did not start; see " + (dir_ / "server.log").string());
  run({"login", "--server", url, "--token-file", (data_ / "admin.token").string()});
  run({"env", "create", kEnvironment, "--cloud", "local", "--cidr", "10.40.0.0/16", "--wait"});
  json environment;
  if (!poll(
          [&] {
            environment = json::parse(run({"env", "get", kEnvironment, "-o", "json"}));
            bool connected = false;
            for (const auto& c : environment.value("conditions", json::array()))
              if (c.value("type", "") == "agent_connected" && c.value("status", false)) connected = true;
            return connected && !environment.value("ca_pem", "").empty();
          },
          std::chrono::seconds(60)))
    throw Error::Internal("the environment's agent did not connect: " + environment.dump());
  ca_pem_ = environment["ca_pem"];
  environment_dir_ = data_ / "environments" / environment["id"].get<std::string>();
}

ByocStack::~ByocStack() {
  // Deleting the environment stops its agent, which stops what it runs; its log is kept.
  g_interrupted = 0;
  std::error_code ec;
  fs::copy_file(environment_dir_ / "agent.log", dir_ / "agent.log", fs::copy_options::overwrite_existing, ec);
  try {
    for (const auto& name : services_) run({"service", "delete", name, "--env", kEnvironment, "--wait"});
    run({"env", "delete", kEnvironment, "--wait"});
  } catch (const std::exception&) {
    // The server stops its agents when it stops anyway.
  }
  if (server_ > 0) proc::terminate(server_, std::chrono::seconds(60));
}

std::string ByocStack::run(const std::vector<std::string>& args) const {
  proc::SpawnOptions spawn;
  spawn.argv = {byoc_.string()};
  spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
  spawn.env = {{"HOME", home_.string()}};
  spawn.unset_env = {"BYOC_SERVER", "BYOC_TOKEN", "BYOC_CA_FILE", "BYOC_JOIN_TOKEN"};
  const fs::path out = dir_ / "cli.out";
  std::error_code ec;
  fs::remove(out, ec);
  spawn.output = out;
  pid_t pid = proc::spawn(spawn);
  std::optional<int> code;
  while (!(code = proc::try_reap(pid))) {
    if (g_interrupted) {
      proc::terminate(pid, std::chrono::seconds(5));
      throw_if_interrupted();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  std::string text = files::read_if_exists(out).value_or("");
  if (*code != 0) throw Error::Internal("byoc " + args.front() + " failed: " + text);
  return text;
}

CreateResult ByocStack::create_service(const std::string& name, int shards, int replicas) {
  CreateResult result;
  services_.insert(name);
  auto start = SteadyClock::now();
  std::string out =
      run({"service", "create", name, "--env", kEnvironment, "--shards", std::to_string(shards), "--replicas",
           std::to_string(replicas), "--memory-mib", "1024", "--wait", "-o", "json"});
  result.cli_wait = since(start);
  // --wait prints progress lines on stderr (the same file here), the JSON last.
  json service = json::parse(out.substr(out.find('{')));
  result.endpoint = service.value("endpoint", "");
  result.password = service.value("password", "");
  http::Client client(http::TlsOptions{.ca_pem = ca_pem_});
  http::Request request;
  request.method = "POST";
  request.url = result.endpoint + "/";
  request.body = "SELECT 1";
  request.timeout = std::chrono::seconds(10);
  request.headers = {{"X-ClickHouse-User", "default"}, {"X-ClickHouse-Key", result.password}};
  if (!poll(
          [&] {
            try {
              return client.send(request).body == "1\n";
            } catch (const Error&) {
              return false;
            }
          },
          std::chrono::seconds(60)))
    throw Error::Internal("the service never answered SELECT 1 at " + result.endpoint);
  result.until_first_select = since(start);
  // The runtime logs "local runtime: NAME READY after N ms" when apply() returns.
  std::string log = files::read_if_exists(environment_dir_ / "agent.log").value_or("");
  const std::string needle = "local runtime: " + name + " READY after ";
  if (auto at = log.rfind(needle); at != std::string::npos)
    result.runtime_apply = std::chrono::milliseconds(std::stol(log.substr(at + needle.size())));
  return result;
}

void ByocStack::delete_service(const std::string& name) {
  run({"service", "delete", name, "--env", kEnvironment, "--wait"});
  services_.erase(name);
  if (!poll([&] { return cold(); }, std::chrono::seconds(60)))
    throw Error::Internal("the environment's processes did not stop after deleting " + name);
}

bool ByocStack::cold() const {
  EnvironmentMemory m = memory();
  return m.zookeeper == 0 && m.endpoint_processes == 0 && m.clickhouse_processes == 0;
}

EnvironmentMemory ByocStack::memory() const {
  EnvironmentMemory m;
  const std::string marker = environment_dir_.string() + "/";
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    std::string cmdline = agent::local::process_cmdline(pid);
    if (cmdline.find(marker) == std::string::npos &&
        cmdline.find(environment_dir_.string() + " ") == std::string::npos &&
        !cmdline.ends_with(environment_dir_.string()))
      continue;
    std::string comm = comm_of(pid);
    long rss = rss_kib(pid);
    if (comm == "nginx") {
      m.endpoints += rss;
      ++m.endpoint_processes;
      for (pid_t worker : agent::local::child_processes(pid)) {
        m.endpoints += rss_kib(worker);
        ++m.endpoint_processes;
      }
    } else if (comm == "java") {
      m.zookeeper += rss;
    } else if (comm.rfind("clickhouse", 0) == 0) {
      m.clickhouse += rss;
      ++m.clickhouse_processes;
    } else if (cmdline.find(" agent ") != std::string::npos) {
      m.agent += rss;
    }
  }
  return m;
}

}  // namespace byoc::bench
