#include "cloud/local/local_driver.h"

#include <spdlog/spdlog.h>

#include "agent/state_layout.h"
#include "base/error.h"
#include "base/files.h"
#include "base/process.h"

namespace byoc::cloud {
namespace fs = std::filesystem;
namespace layout = agent::layout;

namespace {
// An agent stops its services (endpoint first, then replicas) before exiting.
constexpr auto kAgentStopGrace = std::chrono::seconds(60);
}  // namespace

LocalDriver::LocalDriver(LocalDriverOptions options) : options_(std::move(options)) {
  files::ensure_dir(options_.environments_dir, 0700);
}

fs::path LocalDriver::directory(const std::string& environment_id) const {
  return options_.environments_dir / environment_id;
}

// The management-plane URL the running agent was started with: a server
// restarted on another port must restart its agents, or they'd dial nowhere.
constexpr const char* kAgentServerUrl = "agent-server-url";

Observation LocalDriver::observe(const model::Environment& environment) {
  fs::path dir = directory(environment.id);
  Observation o;
  o.exists = fs::exists(dir);
  bool agent_running = o.exists && proc::FileLock::is_held(dir / layout::kLock);
  bool current_url = files::read_if_exists(dir / kAgentServerUrl).value_or("") == options_.server_url;
  o.ready = agent_running && current_url;
  o.reason = !o.exists ? "directory_missing"
                       : (!agent_running ? "agent_not_running" : (current_url ? "" : "agent_dials_old_url"));
  return o;
}

void LocalDriver::create(const model::Environment& environment) {
  fs::path dir = directory(environment.id);
  files::ensure_dir(dir, 0700);
  if (proc::FileLock::is_held(dir / layout::kLock)) {
    // Running, perhaps from before a restart: adopt it if it dials us.
    if (files::read_if_exists(dir / kAgentServerUrl).value_or("") == options_.server_url) return;
    stop_agent(dir);
  }
  // An agent that has joined before restarts with its certificate; otherwise
  // it needs a fresh single-use token.
  if (!fs::exists(dir / layout::kIdentity))
    files::write_atomic(dir / layout::kJoinToken, options_.issue_join_token(environment.id) + "\n", 0600);
  proc::SpawnOptions spawn;
  spawn.argv = {options_.byoc_binary.string(), "agent",    "--state-dir", dir.string(),
                "--server",                    options_.server_url, "--join-token-file",
                (dir / layout::kJoinToken).string()};
  spawn.output = dir / layout::kLog;
  spawn.unset_env = {"BYOC_JOIN_TOKEN", "BYOC_TOKEN"};
  files::write_atomic(dir / kAgentServerUrl, options_.server_url, 0600);
  pid_t pid = proc::spawn(spawn);
  spdlog::info("environment {}: started agent (pid {})", environment.id, pid);
}

void LocalDriver::stop_agent(const fs::path& dir) {
  if (!proc::FileLock::is_held(dir / layout::kLock)) return;
  auto pid = proc::read_pid_file(dir / layout::kPid);
  if (!pid) return;
  spdlog::info("stopping agent pid {} in {}", *pid, dir.string());
  proc::terminate(*pid, kAgentStopGrace);
}

void LocalDriver::remove(const model::Environment& environment) {
  fs::path dir = directory(environment.id);
  if (!fs::exists(dir)) return;
  stop_agent(dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) throw Error::Internal("cannot remove " + dir.string() + ": " + ec.message());
}

void LocalDriver::shutdown() {
  if (!options_.stop_agents_on_shutdown) return;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.environments_dir, ec)) stop_agent(entry.path());
}

}  // namespace byoc::cloud
