#include "agent/agent_main.h"

#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <random>

#include "agent/agent.h"
#include "agent/environment_ca.h"
#include "agent/join.h"
#include "agent/policy.h"
#include "agent/runtimes/registry.h"
#include "agent/state_layout.h"
#include "agent/versions.h"
#include "base/error.h"
#include "base/files.h"
#include "base/log.h"
#include "base/process.h"
#include "model/protocol.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> g_stop{false};
void on_agent_stop_signal(int) { g_stop = true; }

AgentIdentity join_when_possible(const AgentOptions& opts, const Clock& clock) {
  ServerList servers(opts.server_urls, opts.state_dir / layout::kServers, std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    try {
      return load_or_join(opts.state_dir, servers, opts.join_token_file);
    } catch (const Error& e) {
      // A server that isn't up yet is worth waiting for; a bad token is not.
      if (e.kind() != ErrorKind::kUnavailable || g_stop) throw;
      if (attempt == 1) spdlog::warn("cannot join yet: {}", e.what());
      clock.sleep_for(std::chrono::milliseconds(std::min(5000, 200 * attempt)), &g_stop);
    }
  }
}

}  // namespace

int run_agent(const AgentOptions& options) {
  log::init("agent");
  if (options.state_dir.empty()) throw Error::Invalid("required", "--state-dir is required", "state-dir");
  if (options.server_urls.empty() || options.server_urls.size() > model::kMaxPlaneServers)
    throw Error::Invalid("invalid_server", "--server takes 1 to 16 https:// URLs, comma-separated", "server");
  for (const auto& url : options.server_urls)
    if (url.rfind("https://", 0) != 0)
      throw Error::Invalid("invalid_server", "--server must be an https:// URL", "server");
  check_runtime_settings(options.runtime, options.runtime_settings);  // before anything is joined or started
  AgentOptions opts = options;
  opts.state_dir = fs::absolute(options.state_dir);
  for (auto& url : opts.server_urls)
    while (!url.empty() && url.back() == '/') url.pop_back();
  files::ensure_dir(opts.state_dir, 0700);
  auto lock = proc::FileLock::try_acquire(opts.state_dir / layout::kLock);
  if (!lock) {
    spdlog::info("another agent runs in {}; nothing to do", opts.state_dir.string());
    return 0;
  }
  // The customer's limits first: a broken policy file stops the agent before
  // it joins or runs anything (one readable line, from the caller).
  CustomerPolicy policy = load_customer_policy(opts.state_dir);
  // And the versions it may run: a broken list stops it the same way.
  VersionList versions = load_versions(opts.state_dir / kVersionsFile);
  proc::write_pid_file(opts.state_dir / layout::kPid, ::getpid());
  std::signal(SIGTERM, on_agent_stop_signal);
  std::signal(SIGINT, on_agent_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);
  spdlog::info("customer policy: {}", to_json(policy).dump());

  SystemClock clock;
  AgentIdentity identity = join_when_possible(opts, clock);
  auto environment_ca = load_or_make_environment_ca(opts.state_dir, identity.environment_name, clock);
  AgentConfig config;
  config.state_dir = opts.state_dir;
  config.server_urls = opts.server_urls;
  config.environment_ca_pem = environment_ca.cert_pem;
  RuntimeContext context{opts.state_dir / layout::kServices, environment_ca, &clock};
  context.environment_id = identity.environment_id;
  context.settings = opts.runtime_settings;
  context.versions = versions;
  RuntimeChoice runtime = make_runtime(opts.runtime, context);
  config.scope = runtime.scope;
  // Where the runtime's gateways reach the agent (a cluster's through the
  // agent's Service, on fixed ports; the local runtime's nginx is told
  // whichever port was free) and what the kubernetes-readonly scope fronts.
  config.gateway.host = runtime.gateway_listen_host;
  config.gateway.check_port = runtime.gateway_check_port;
  config.gateway.kube_proxy_port = runtime.kube_proxy_port;
  config.gateway.kubernetes_api = runtime.kubernetes_api;
  Agent agent(config, std::move(identity), std::move(runtime.runtime), clock, g_stop);
  agent.run();
  std::error_code ec;
  fs::remove(opts.state_dir / layout::kPid, ec);
  spdlog::info("stopped");
  return 0;
}

}  // namespace byoc::agent
