#include "cloud/local/local_driver.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/state_layout.h"
#include "base/error.h"
#include "base/files.h"
#include "base/process.h"

namespace byoc::cloud {
namespace fs = std::filesystem;
namespace layout = agent::layout;

namespace {
// The management-plane URLs the running agent was started with, one a line:
// an agent dialling no live server (say, one restarted on another port) must
// be restarted, or it would dial nowhere.
constexpr const char* kAgentServerUrl = "agent-server-url";
// When an agent was last started (unix milliseconds), by whichever server.
constexpr const char* kAgentStartedAt = "agent-started-at";
// The idempotency token of the last action asked of this environment.
constexpr const char* kActionToken = "action-token";
// An agent comes up within a second or two.
constexpr std::chrono::milliseconds kLookAgain{250};
// How long a started agent counts as starting (it takes its lock at once;
// joining may wait for the server).
constexpr std::chrono::seconds kStartWindow{30};
// The same for an agent another server (or an earlier run of this one)
// started: long enough to cover exec to lock, short enough that an agent
// that died at once is started again promptly after a restart.
constexpr std::chrono::seconds kPeerStartWindow{5};
}  // namespace

LocalDriver::LocalDriver(LocalDriverOptions options) : options_(std::move(options)) {
  if (!options_.clock) throw Error::Internal("the local driver needs a clock");
  files::ensure_dir(options_.environments_dir, 0700);
}

fs::path LocalDriver::directory(const std::string& environment_id) const {
  return options_.environments_dir / environment_id;
}

Observation LocalDriver::observe(const model::Environment& environment) {
  fs::path dir = directory(environment.id);
  Observation o;
  o.exists = fs::exists(dir);
  o.handle = o.exists ? dir.string() : "";
  o.last_token = files::read_if_exists(dir / kActionToken).value_or("");
  bool agent_running = o.exists && proc::FileLock::is_held(dir / layout::kLock);
  bool current_url = o.exists && dials_the_plane(dir);
  bool starting = false;
  {
    std::lock_guard lock(mutex_);
    auto it = started_at_.find(environment.id);
    starting = it != started_at_.end() && options_.clock->monotonic_time() - it->second < kStartWindow;
  }
  if (!starting && o.exists) {
    // Another server of the plane may have started it a moment ago.
    auto since = files::read_if_exists(dir / kAgentStartedAt);
    int64_t now_ms = options_.clock->unix_seconds() * 1000;
    try {
      starting = since && now_ms - std::stoll(*since) < std::chrono::milliseconds(kPeerStartWindow).count();
    } catch (const std::exception&) {
    }
  }
  // What a local environment should be: its agent running, dialling us.
  o.up_to_date = o.exists && current_url && (agent_running || starting);
  o.ready = agent_running && current_url;
  o.reason = !o.exists ? "directory_missing"
                       : (!agent_running ? "agent_not_running" : (current_url ? "" : "agent_dials_old_url"));
  o.look_again = kLookAgain;
  return o;
}

std::string LocalDriver::create(const model::Environment& environment, const std::string& token) {
  fs::path dir = directory(environment.id);
  files::ensure_dir(dir, 0700);
  files::write_atomic(dir / kActionToken, token, 0600);
  start_agent(environment, dir);
  return dir.string();
}

void LocalDriver::update(const model::Environment& environment, const std::string& token) {
  // Nothing to change in place; a stopped agent is started again.
  fs::path dir = directory(environment.id);
  if (!fs::exists(dir)) return;
  files::write_atomic(dir / kActionToken, token, 0600);
  start_agent(environment, dir);
}

void LocalDriver::start_agent(const model::Environment& environment, const fs::path& dir) {
  {
    std::lock_guard lock(mutex_);
    // One we started still runs (perhaps before its lock): it dials us already.
    if (live_child_locked(environment.id)) return;
  }
  if (proc::FileLock::is_held(dir / layout::kLock)) {
    // Running, perhaps from before a restart: adopt it if it dials the plane.
    if (dials_the_plane(dir)) return;
    stop_agent(dir);
  }
  // An agent that has joined before restarts with its certificate; otherwise
  // it needs a fresh single-use token.
  if (!fs::exists(dir / layout::kIdentity))
    files::write_atomic(dir / layout::kJoinToken, options_.issue_join_token(environment.id) + "\n", 0600);
  std::vector<std::string> urls = plane_urls();
  std::string url_list, url_lines;
  for (const auto& u : urls) {
    url_list += (url_list.empty() ? "" : ",") + u;
    url_lines += u + "\n";
  }
  proc::SpawnOptions spawn;
  spawn.argv = {options_.byoc_binary.string(), "agent", "--state-dir", dir.string(), "--server", url_list,
                "--join-token-file", (dir / layout::kJoinToken).string()};
  spawn.output = dir / layout::kLog;
  // Nothing of the management plane's own credentials goes to the customer's
  // side: not its tokens, nor the store's password (libpq's variables).
  spawn.unset_env = {"BYOC_JOIN_TOKEN", "BYOC_TOKEN", "PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE",
                     "PGUSER", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSSLKEY", "PGSSLCERT",
                     "PGSSLPASSWORD"};
  files::write_atomic(dir / kAgentServerUrl, url_lines, 0600);
  files::write_atomic(dir / kAgentStartedAt, std::to_string(options_.clock->unix_seconds() * 1000), 0600);
  pid_t pid = proc::spawn(spawn);
  {
    std::lock_guard lock(mutex_);
    started_at_[environment.id] = options_.clock->monotonic_time();
    children_[environment.id] = pid;
  }
  spdlog::info("environment {}: started agent (pid {})", environment.id, pid);
}

std::vector<std::string> LocalDriver::plane_urls() const {
  std::vector<std::string> urls = options_.plane_urls ? options_.plane_urls() : std::vector<std::string>{};
  if (urls.empty()) urls.push_back(options_.server_url);
  return urls;
}

bool LocalDriver::dials_the_plane(const fs::path& dir) const {
  // What the agent dials: what it was started with, and the list it keeps
  // itself (the plane's servers as last listed to it).
  std::vector<std::string> dialled;
  if (auto kept = files::read_if_exists(dir / layout::kServers)) {
    try {
      dialled = nlohmann::json::parse(*kept).get<std::vector<std::string>>();
    } catch (const std::exception&) {
    }
  }
  std::istringstream lines(files::read_if_exists(dir / kAgentServerUrl).value_or(""));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) dialled.push_back(line);
  for (const auto& live : plane_urls())
    if (std::find(dialled.begin(), dialled.end(), live) != dialled.end()) return true;
  return false;
}

void LocalDriver::stop_agent(const fs::path& dir) {
  if (!proc::FileLock::is_held(dir / layout::kLock)) return;
  auto pid = proc::read_pid_file(dir / layout::kPid);
  if (!pid) return;
  spdlog::info("stopping agent pid {} in {}", *pid, dir.string());
  proc::terminate(*pid, options_.stop_grace);
}

std::optional<pid_t> LocalDriver::live_child_locked(const std::string& environment_id) {
  auto it = children_.find(environment_id);
  if (it == children_.end()) return std::nullopt;
  if (proc::try_reap(it->second)) {  // exited (stopped, crashed, or lost the lock to another agent)
    children_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void LocalDriver::remove(const model::Environment& environment, const std::string& token) {
  fs::path dir = directory(environment.id);
  if (!fs::exists(dir)) return;
  files::write_atomic(dir / kActionToken, token, 0600);
  std::optional<pid_t> child;
  {
    std::lock_guard lock(mutex_);
    child = live_child_locked(environment.id);
  }
  // An agent of ours that has not taken its lock yet is running too: removing
  // the directory under it would let it make the directory again.
  if (proc::FileLock::is_held(dir / layout::kLock) || child) {
    auto pid = proc::read_pid_file(dir / layout::kPid);
    if (!pid) pid = child;
    if (!pid) return;  // starting: its pid file comes next, and the next pass
    MonotonicTime now = options_.clock->monotonic_time();
    std::lock_guard lock(mutex_);
    auto [since, first] = stopping_since_.try_emplace(environment.id, now);
    if (first) {
      spdlog::info("environment {}: stopping agent pid {}", environment.id, *pid);
      proc::signal_group(*pid, SIGTERM);  // its own session and group: the agent and what it runs
    } else if (now - since->second >= options_.stop_grace) {
      spdlog::warn("environment {}: agent pid {} outlived its grace period; killing it", environment.id, *pid);
      proc::signal_group(*pid, SIGKILL);
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_since_.erase(environment.id);
    started_at_.erase(environment.id);
  }
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
