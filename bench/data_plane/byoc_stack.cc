#include "byoc_stack.h"

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/proc_table.h"
#include "agent/state_layout.h"
#include "base/error.h"
#include "base/files.h"
#include "base/process.h"
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
  // The access log times each request: where the CLI's and the agent's time goes.
  spawn.argv = {byoc_.string(), "server",    "--listen", "127.0.0.1:0", "--data-dir", data_.string(),
                "--access-log",  (dir_ / "access.log").string()};
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

ByocRun ByocStack::cold_start(const std::string& name) {
  ByocRun result;
  result.service = name;
  services_.insert(name);
  result.wall_start = std::chrono::system_clock::now();
  const auto start = SteadyClock::now();
  std::string out = run({"service", "create", name, "--env", kEnvironment, "--shards", "1", "--replicas", "2",
                         "--memory-mib", "1024", "--wait", "-o", "json"});
  result.cli_done = since(start);
  // --wait prints progress lines on stderr (the same file here), the JSON last.
  json service = json::parse(out.substr(out.find('{')));
  const fs::path service_dir = environment_dir_ / agent::layout::kServices / name;
  auto ports = agent::local::load_ports(agent::local::ServiceLayout(service_dir.parent_path(), name).ports_file());
  if (!ports) throw Error::Internal("no ports.json for " + name + " under " + service_dir.string());
  ServiceAccess access;
  access.endpoint = service.value("endpoint", "");
  access.password = service.value("password", "");
  access.ca_pem = ca_pem_;
  access.cluster = name;
  for (const auto& [replica, p] : ports->replicas) access.replica_http_ports.push_back(p.http);
  result.proof = prove_replication(access, start);

  // Not measured: the logs go with the service's directory and ZooKeeper's.
  agent::local::ZooKeeperLayout zookeeper(service_dir.parent_path());
  result.zookeeper_log = files::read_if_exists(zookeeper.log_file()).value_or("");
  agent::local::ServiceLayout layout(service_dir.parent_path(), name);
  const fs::path kept = dir_ / "logs" / name;  // for --keep
  files::ensure_dir(kept, 0700);
  files::write_atomic(kept / "zookeeper.log", result.zookeeper_log, 0600);
  for (const auto& [replica, p] : ports->replicas) {
    result.replica_logs.push_back(
        files::read_if_exists(layout.replica_logs(replica) / "clickhouse-server.log").value_or(""));
    files::write_atomic(kept / (replica + ".log"), result.replica_logs.back(), 0600);
  }
  return result;
}

std::vector<Step> ByocStack::timeline(const ByocRun& r) const {
  const std::string agent_log = files::read_if_exists(environment_dir_ / "agent.log").value_or("");
  const std::vector<AccessLine> access = access_lines(files::read_if_exists(dir_ / "access.log").value_or(""));
  const WallTime t0 = r.wall_start;
  const WallTime cli_exit = t0 + r.cli_done;
  std::vector<Step> steps;
  auto at = [&](const std::string& what, std::optional<WallTime> t) {
    steps.push_back({what, offset_ms(t0, t)});
    return t;
  };
  auto agent_line = [&](std::string_view needle, WallTime after) {
    return first_line_after(agent_log, needle, after);
  };

  std::optional<WallTime> create_in, create_out;
  for (const auto& a : access)
    if (a.method == "POST" && a.route.ends_with("/services") && a.arrived >= t0 && !create_in) {
      create_in = a.arrived;
      create_out = a.answered;
    }
  at("server: POST service received", create_in);
  at("server: POST service answered", create_out);
  at("agent: has the desired state", agent_line("desired state revision", t0));
  at("agent: apply starts", agent_line("service " + r.service + ": applying", t0));
  auto zk_spawned = at("runtime: ZooKeeper spawned", agent_line("supervisor: started _zookeeper", t0));
  // ZooKeeper logs this right after it starts serving: sessions before it are refused.
  at("ZooKeeper: serving (its log)",
     zk_spawned ? first_line_after(r.zookeeper_log, "ZooKeeper audit is disabled", *zk_spawned) : std::nullopt);
  // The first write: the chroot's first node.
  at("ZooKeeper: first write (chroot; its log)",
     zk_spawned ? first_line_after(r.zookeeper_log, "Creating new log file", *zk_spawned) : std::nullopt);
  at("runtime: replica 1 spawned (chroot made)", agent_line("supervisor: started " + r.service + "/s1r1", t0));
  at("runtime: replica 2 spawned", agent_line("supervisor: started " + r.service + "/s1r2", t0));
  std::optional<WallTime> ready;
  for (const auto& log : r.replica_logs) {
    auto t = first_line_after(log, "Ready for connections", t0);
    if (!t) {
      ready.reset();
      break;
    }
    if (!ready || *t > *ready) ready = t;
  }
  at("ClickHouse: both replicas ready (their logs)", ready);
  at("runtime: endpoint config sends to both",
     agent_line("the endpoint of " + r.service + " now sends to 2 of", t0));
  at("runtime: endpoint spawned", agent_line("supervisor: started " + r.service + "/endpoint", t0));
  auto runtime_ready = at("runtime: READY (apply returns)", agent_line("local runtime: " + r.service + " READY", t0));
  std::optional<WallTime> report;
  if (runtime_ready)
    for (const auto& a : access)
      if (a.method == "POST" && a.route == "/v1/agent/sync" && a.arrived >= *runtime_ready &&
          (!report || a.arrived < *report))
        report = a.arrived;
  at("server: sync with READY received", report);
  std::optional<WallTime> last_poll;
  int polls = 0;
  for (const auto& a : access)
    if (a.method == "GET" && a.route.rfind("/v1/operations/", 0) == 0 && a.arrived >= t0 && a.answered <= cli_exit) {
      ++polls;
      if (!last_poll || a.answered > *last_poll) last_poll = a.answered;
    }
  at("server: CLI's last operation poll answered (" + std::to_string(polls) + " polls)", last_poll);
  steps.push_back({"CLI: create --wait exits", r.cli_done.count()});
  steps.push_back({"DDL ON CLUSTER done", r.proof.ddl_done.count()});
  steps.push_back({"INSERT done", r.proof.insert_done.count()});
  steps.push_back({"row on both replicas (end)", r.proof.replicated.count()});
  return steps;
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
