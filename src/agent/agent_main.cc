#include "agent/agent_main.h"

#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "agent/desired_check.h"
#include "agent/join.h"
#include "agent/runtimes/local/local_runtime.h"
#include "agent/state_layout.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/log.h"
#include "base/process.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> g_stop{false};
void on_agent_stop_signal(int) { g_stop = true; }

// Sleeps up to `d`, waking early when asked to stop.
void pause_for(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!g_stop && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
}

crypto::KeyedCertificate load_or_make_environment_ca(const fs::path& dir, const std::string& env_name) {
  auto cert = files::read_if_exists(dir / layout::kEnvironmentCa);
  auto key = files::read_if_exists(dir / layout::kEnvironmentCaKey);
  if (cert && key) return {*cert, *key};
  crypto::CertificateSpec spec;
  spec.common_name = "byoc environment " + env_name + " CA";
  spec.not_before = std::chrono::system_clock::now() - 1h;
  spec.not_after = std::chrono::system_clock::now() + 24h * 3650;
  auto ca = crypto::make_ca(spec);
  files::write_atomic(dir / layout::kEnvironmentCaKey, ca.key_pem, 0600);
  files::write_atomic(dir / layout::kEnvironmentCa, ca.cert_pem, 0644);
  return ca;
}

ServiceSpec to_spec(const model::DesiredService& s) {
  return {s.name, s.clickhouse_version, s.shards, s.replicas, s.cpu_millis, s.memory_mib, s.allowed_ips,
          s.default_password_sha256_hex};
}

// The agent proper: applies desired states to the runtime and talks to the
// management plane. One thread runs sync(); supervise() runs on another.
class Agent {
 public:
  Agent(const AgentOptions& options, AgentIdentity identity, crypto::KeyedCertificate environment_ca)
      : options_(options), identity_(std::move(identity)), environment_ca_pem_(environment_ca.cert_pem) {
    runtime_ = make_local_runtime({options.state_dir / layout::kServices, environment_ca});
    if (auto cached = files::read_if_exists(options.state_dir / layout::kDesired)) {
      try {
        desired_ = model::parse_desired_state(json::parse(*cached));
      } catch (const std::exception& e) {
        spdlog::error("ignoring unreadable cached desired state: {}", e.what());
      }
    }
  }

  void run() {
    std::thread supervisor([this] {
      while (!g_stop) {
        try {
          runtime_->supervise();
        } catch (const std::exception& e) {
          spdlog::error("supervision failed: {}", e.what());
        }
        pause_for(200ms);
      }
    });
    // Serve from the cache at once: the data plane doesn't wait for the management plane.
    if (desired_) apply(*desired_);
    sync_loop();
    supervisor.join();
    spdlog::info("stopping services");
    runtime_->stop_all();
  }

 private:
  void sync_loop() {
    http::Client client({identity_.server_ca_pem, identity_.certificate_pem, identity_.key_pem, false});
    std::mt19937_64 random{std::random_device{}()};
    int failures = 0;
    int64_t seq = 0;
    while (!g_stop) {
      model::SyncRequest report;
      report.known_revision = desired_ ? desired_->revision : 0;
      report.seq = ++seq;
      report.status = status();
      http::Request req;
      req.method = "POST";
      req.url = options_.server_url + "/v1/agent/sync";
      req.headers = {{"Content-Type", "application/json"}};
      req.body = model::to_json(report).dump();
      req.timeout = 75s;  // the server holds up to ~30 s
      req.cancel = &g_stop;
      try {
        http::Response res = client.send(req);
        if (res.status != 200) {
          throw Error::Unavailable("sync answered HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 200));
        }
        model::SyncResponse answer = model::parse_sync_response(json::parse(res.body));
        if (failures > 0) spdlog::info("management plane reachable again");
        failures = 0;
        if (answer.desired) accept(*answer.desired);
      } catch (const std::exception& e) {
        if (g_stop) break;
        ++failures;
        // Exponential backoff with full jitter, capped at 30 s; the cached
        // desired state keeps serving meanwhile.
        double cap = std::min(30'000.0, 500.0 * std::pow(2.0, std::min(failures, 10)));
        auto delay = std::chrono::milliseconds(
            static_cast<long>(std::uniform_real_distribution<double>(cap / 4, cap)(random)));
        if (failures == 1 || failures % 10 == 0)
          spdlog::warn("sync failed ({}), retrying in {} ms", e.what(), delay.count());
        pause_for(delay);
      }
    }
  }

  void accept(const model::DesiredState& desired) {
    if (desired.environment_id != identity_.environment_id) {
      spdlog::error("refusing a desired state for another environment");
      return;
    }
    files::write_atomic(options_.state_dir / layout::kDesired, to_json(desired).dump(), 0600);
    desired_ = desired;
    apply(desired);
  }

  void apply(const model::DesiredState& desired) {
    for (const auto& svc : desired.services) {
      std::string reason = refusal_reason(svc);
      if (reason.empty()) {
        try {
          runtime_->apply(to_spec(svc));
        } catch (const std::exception& e) {
          spdlog::error("service {}: apply failed: {}", svc.name, e.what());
          reason = "apply_failed";
        }
      } else {
        spdlog::warn("service {}: refused ({})", svc.name, reason);
      }
      std::lock_guard lock(mutex_);
      if (reason.empty()) refused_.erase(svc.name);
      else refused_[svc.name] = reason;
    }
    for (const auto& name : runtime_->services()) {
      bool wanted = false;
      for (const auto& svc : desired.services) wanted = wanted || svc.name == name;
      if (!wanted) {
        spdlog::info("service {}: removing", name);
        runtime_->remove(name);
      }
    }
    std::lock_guard lock(mutex_);
    applied_revision_ = desired.revision;
  }

  model::AgentStatus status() {
    model::AgentStatus st;
    st.environment_ca_pem = environment_ca_pem_;
    std::lock_guard lock(mutex_);
    st.applied_revision = applied_revision_;
    if (!desired_) return st;
    auto observed = runtime_->observe();
    for (const auto& svc : desired_->services) {
      model::ReportedService r{svc.name, "PROVISIONING", "starting", "", {}};
      for (const auto& o : observed) {
        if (o.name != svc.name) continue;
        r.state = to_string(o.state);
        r.reason = o.reason;
        r.endpoint = o.endpoint;
        for (const auto& rep : o.replicas)
          r.replicas.push_back({rep.shard, rep.replica, to_string(rep.state), rep.last_error_code});
      }
      if (auto it = refused_.find(svc.name); it != refused_.end()) {
        r.state = "FAILED";
        r.reason = it->second;
      }
      st.services.push_back(std::move(r));
    }
    return st;
  }

  const AgentOptions& options_;
  AgentIdentity identity_;
  std::string environment_ca_pem_;
  std::unique_ptr<Runtime> runtime_;
  std::optional<model::DesiredState> desired_;
  std::mutex mutex_;
  std::map<std::string, std::string> refused_;
  int64_t applied_revision_ = 0;
};

}  // namespace

int run_agent(const AgentOptions& options) {
  log::init("agent");
  if (options.state_dir.empty()) throw Error::Invalid("required", "--state-dir is required", "state-dir");
  if (options.server_url.rfind("https://", 0) != 0)
    throw Error::Invalid("invalid_server", "--server must be an https:// URL", "server");
  AgentOptions opts = options;
  opts.state_dir = fs::absolute(options.state_dir);
  while (!opts.server_url.empty() && opts.server_url.back() == '/') opts.server_url.pop_back();
  files::ensure_dir(opts.state_dir, 0700);
  auto lock = proc::FileLock::try_acquire(opts.state_dir / layout::kLock);
  if (!lock) {
    spdlog::info("another agent runs in {}; nothing to do", opts.state_dir.string());
    return 0;
  }
  proc::write_pid_file(opts.state_dir / layout::kPid, ::getpid());
  std::signal(SIGTERM, on_agent_stop_signal);
  std::signal(SIGINT, on_agent_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);

  AgentIdentity identity;
  for (int attempt = 1;; ++attempt) {
    try {
      identity = load_or_join(opts.state_dir, opts.server_url, opts.join_token_file);
      break;
    } catch (const Error& e) {
      // A server that isn't up yet is worth waiting for; a bad token is not.
      if (e.kind() != ErrorKind::kUnavailable || g_stop) throw;
      if (attempt == 1) spdlog::warn("cannot join yet: {}", e.what());
      pause_for(std::chrono::milliseconds(std::min(5000, 200 * attempt)));
    }
  }
  auto environment_ca = load_or_make_environment_ca(opts.state_dir, identity.environment_name);
  Agent agent(opts, std::move(identity), environment_ca);
  agent.run();
  std::error_code ec;
  fs::remove(opts.state_dir / layout::kPid, ec);
  spdlog::info("stopped");
  return 0;
}

}  // namespace byoc::agent
