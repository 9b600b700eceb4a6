// bench/agents: N simulated agents against one `byoc server`, from one process.
//
//   agents_bench --data-dir SERVER_DATA_DIR --agents N [--restart-cmd CMD] --result FILE
//   agents_bench --data-dir A --data-dir B --agents N --kill-first --result FILE
//   agents_bench --summarize FILE...
//
// With a running server (its data dir gives the URL, admin token, CA and
// pid), it creates N `external` environments, each with a join token and one
// service; joins N agents through the agent's own join code (key + CSR, CA
// hash checked); runs them all as event-driven long-polling agents; then
// measures, with all N connected: the server's RSS (from /proc), the time for
// all to join and sync, the latency from changing one environment's desired
// state (PATCH of its service) to its agent receiving it, a change of every
// environment (one PATCH per environment, as fast as the API takes them) until
// every agent has it, and — when given a restart command that kills -9 and
// restarts the server — the time until every agent is back in sync.
// With several servers of one plane (one --data-dir each), agent i joins and
// dials server i mod n (moving on to the next when one fails, as the agent
// does), API calls go round the servers, RSS is read for each, and
// --kill-first kills -9 the first server (no restart): the figure is the
// time until every agent it held is back in sync with another.
// run.sh starts the server and drives this; see bench/README.md.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "admin_api.h"
#include "agent/join.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "sim_agent.h"

namespace byoc::bench {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

struct Options {
  std::vector<fs::path> data_dirs;
  bool kill_first = false;
  size_t agents = 1000;
  fs::path work_dir;
  int api_threads = 16;
  int io_threads = 1;
  size_t samples = 200;
  std::string restart_cmd;
  int hold_ms = 30'000;
  fs::path result;
};

double seconds_between(SteadyNanos from, SteadyNanos to) { return static_cast<double>(to - from) / 1e9; }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

json distribution(const std::vector<double>& v) {
  return {{"n", v.size()},
          {"p50", percentile(v, 50)},
          {"p99", percentile(v, 99)},
          {"max", v.empty() ? 0.0 : *std::max_element(v.begin(), v.end())}};
}

// VmRSS and VmHWM of a process, in MiB.
std::pair<double, double> rss_mib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  double rss = 0, hwm = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stod(line.substr(6)) / 1024;
  }
  return {rss, hwm};
}

void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Polls `done` every few milliseconds until it holds or `limit` passes.
bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Runs `sh -c command` and waits for it. The child gets none of our
// descriptors: Asio opens sockets without CLOEXEC, and a server started by
// the command would otherwise inherit every agent's connection.
int run_command(const std::string& command) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::close_range(3, ~0U, 0);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string env_name(size_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "bench-%05zu", i);
  return name;
}

class Bench {
 public:
  explicit Bench(Options o) : opt_(std::move(o)) {
    for (const auto& dir : opt_.data_dirs) {
      json server = json::parse(files::read(dir / "server.json"));
      ApiTarget api;
      api.url = server.at("url");
      api.token = files::read(dir / "admin.token");
      while (!api.token.empty() && std::isspace(static_cast<unsigned char>(api.token.back()))) api.token.pop_back();
      api.ca_pem = files::read(dir / "ca.pem");
      auto colon = api.url.rfind(':');
      host_ = api.url.substr(8, colon - 8);
      ports_.push_back(std::stoi(api.url.substr(colon + 1)));
      apis_.push_back(api);
      alive_.push_back(apis_.size() - 1);
    }
    api_ = apis_.front();
    if (opt_.work_dir.empty()) opt_.work_dir = "/dev/shm/byoc-bench-agents-" + std::to_string(::getpid());
    fs::create_directories(opt_.work_dir);
  }

  ~Bench() {
    for (auto& a : agents_)
      if (a) a->stop();
    io_.stop();
    for (auto& t : io_threads_) t.join();
    std::error_code ec;
    fs::remove_all(opt_.work_dir, ec);
  }

  json run() {
    result_["agents"] = opt_.agents;
    result_["servers"] = apis_.size();
    result_["hold_seconds"] = opt_.hold_ms / 1000.0;
    setup();
    join_and_sync();
    create_services();
    note_rss("services_ready");
    one_environment_changes("one_env_change");
    all_environments_change();
    if (!opt_.restart_cmd.empty()) {
      restart();
      one_environment_changes("one_env_change_after_restart", std::min<size_t>(opt_.samples, 50));
    }
    if (opt_.kill_first && apis_.size() > 1) {
      failover();
      one_environment_changes("one_env_change_after_failover", std::min<size_t>(opt_.samples, 50));
    }
    return result_;
  }

 private:
  int server_pid(size_t k = 0) {
    return json::parse(files::read(opt_.data_dirs[k] / "server.json")).at("pid").get<int>();
  }
  // The API of a live server, round the plane.
  const ApiTarget& api_for(size_t i) const { return apis_[alive_[i % alive_.size()]]; }

  void note_rss(const std::string& when) {
    for (size_t k : alive_) {
      auto [rss, hwm] = rss_mib(server_pid(k));
      json figures = {{"rss", rss}, {"peak", hwm}};
      if (k == 0) {
        result_["rss_mib"][when]["rss"] = rss;
        result_["rss_mib"][when]["peak"] = hwm;
      } else {
        result_["rss_mib"][when]["server" + std::to_string(k + 1)] = figures;
      }
      std::printf("  server %zu RSS %s: %.0f MiB (peak %.0f MiB)\n", k + 1, when.c_str(), rss, hwm);
    }
  }

  // N external environments, each with a join token.
  void setup() {
    auto t0 = steady_now();
    tokens_.resize(opt_.agents);
    parallel_for(opt_.agents, opt_.api_threads, api_, [&](size_t i, http::Client& c) {
      std::string name = env_name(i);
      json env = {{"name", name},
                  {"cloud", "external"},
                  {"cidr", "10." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".0/24"}};
      api_call(c, api_, "POST", "/v1/environments", env.dump());
      tokens_[i] = json::parse(api_call(c, api_, "POST", "/v1/environments/" + name + "/join-tokens", "{}"))
                       .at("token")
                       .get<std::string>();
    });
    double s = seconds_between(t0, steady_now());
    result_["setup_seconds"] = s;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::printf("setup: %zu environments + join tokens in %.1f s\n", opt_.agents, s);
  }

  // Joins every agent through the agent's join code (in parallel), starting
  // each agent's sync loop as soon as it has joined.
  void join_and_sync() {
    auto probe = crypto::make_ca({"bench environment CA",
                                  {},
                                  {},
                                  true,
                                  false,
                                  false,
                                  std::chrono::system_clock::now() - 1h,
                                  std::chrono::system_clock::now() + 24h * 365});
    shared_ = std::make_unique<FleetShared>(io_, api_.ca_pem, host_, ports_);
    shared_->environment_ca_pem = probe.cert_pem;
    agents_.resize(opt_.agents);
    work_guard_.emplace(io_.get_executor());
    for (int t = 0; t < opt_.io_threads; ++t) io_threads_.emplace_back([this] { io_.run(); });

    auto t0 = steady_now();
    parallel_for(opt_.agents, opt_.api_threads, api_, [&](size_t i, http::Client&) {
      fs::path dir = opt_.work_dir / env_name(i);
      files::ensure_dir(dir, 0700);
      files::write_atomic(dir / "join-token", tokens_[i], 0600);
      agent::AgentIdentity id = agent::load_or_join(dir, api_for(i).url, dir / "join-token");
      auto a = std::make_shared<SimAgent>(
          *shared_, AgentIdentityPem{id.environment_id, id.environment_name, id.key_pem, id.certificate_pem},
          0x5eed0000 + i, i % apis_.size());
      agents_[i] = a;
      a->start();
    });
    auto joined = steady_now();
    // Synced: the server has recorded every agent's first report (its
    // environment shows the agent connected).
    bool ok = wait_until([&] { return server_count("/v1/environments", is_connected) == opt_.agents; }, 900s);
    auto connected = steady_now();
    if (!ok) throw Error::Unavailable("not every agent was recorded connected within 900 s");
    result_["join_seconds"] = seconds_between(t0, joined);
    result_["join_and_sync_seconds"] = seconds_between(t0, connected);
    std::printf(
        "join: all %zu joined in %.1f s; all synced (first report recorded, agent_connected) at %.1f s\n",
        opt_.agents, seconds_between(t0, joined), seconds_between(t0, connected));
    settle();
    note_rss("synced");
  }

  // A service "db" in every environment (`api_threads` creates at a time):
  // a first desired state for every agent, until every service is READY.
  void create_services() {
    auto t0 = steady_now();
    parallel_for(opt_.agents, opt_.api_threads, api_, [&](size_t i, http::Client& c) {
      api_call(c, api_for(i), "POST", "/v1/environments/" + env_name(i) + "/services", json{{"name", "db"}}.dump());
    });
    auto created = steady_now();
    bool ok = wait_until([&] { return all([](AgentProbe& p) { return p.revision.load() >= 1; }); }, 900s);
    auto desired = steady_now();
    if (!ok) throw Error::Unavailable("not every agent received its service within 900 s");
    ok = wait_until([&] { return server_count("/v1/services", is_ready) == opt_.agents; }, 900s);
    auto ready = steady_now();
    if (!ok) throw Error::Unavailable("not every service became READY within 900 s");
    result_["services"] = {{"created_seconds", seconds_between(t0, created)},
                           {"all_received_seconds", seconds_between(t0, desired)},
                           {"all_ready_seconds", seconds_between(t0, ready)}};
    std::printf(
        "services: %zu created in %.1f s; every agent had its service at %.1f s; all READY (reports "
        "recorded) at %.1f s\n",
        opt_.agents, seconds_between(t0, created), seconds_between(t0, desired), seconds_between(t0, ready));
    settle();
  }

  static bool is_connected(const json& env) {
    for (const auto& c : env.at("conditions"))
      if (c.at("type") == "agent_connected") return c.at("status").get<bool>();
    return false;
  }
  static bool is_ready(const json& svc) { return svc.at("state") == "READY"; }

  // How many items of an API listing satisfy `pred`; listed once a second at most.
  size_t server_count(const std::string& path, bool (*pred)(const json&)) {
    if (!lister_) lister_ = std::make_unique<http::Client>(http::TlsOptions{api_.ca_pem, "", "", false});
    if (steady_now() - listed_at_ < 1'000'000'000) return listed_count_;
    size_t n = 0;
    json listing = json::parse(api_call(*lister_, api_, "GET", path));
    for (const auto& item : listing.at("items")) n += pred(item);
    listed_at_ = steady_now();
    listed_count_ = n;
    return n;
  }

  bool all(const std::function<bool(AgentProbe&)>& pred) {
    for (auto& a : agents_)
      if (!a || !pred(a->probe())) return false;
    return true;
  }

  // Until every agent has its next long-poll open after its last answer.
  void settle() {
    wait_until(
        [&] {
          return all([](AgentProbe& p) {
            return p.sent_at.load() > std::max(p.revision_at.load(), p.unchanged_at.load());
          });
        },
        60s);
    std::this_thread::sleep_for(2s);
  }

  std::string next_allowlist() {
    ++change_;
    return json{
        {"allowed_ips",
         {"192.168." + std::to_string(change_ / 256 % 256) + "." + std::to_string(change_ % 256) + "/32"}}}
        .dump();
  }

  // PATCH one random environment's service at a time and time its agent
  // receiving the new desired state (from the moment the PATCH is sent).
  void one_environment_changes(const std::string& key, size_t samples = 0) {
    if (samples == 0) samples = opt_.samples;
    http::Client client({api_.ca_pem, "", "", false});
    std::mt19937_64 random(42);
    std::vector<double> latency, api_latency;
    size_t lost = 0;
    for (size_t s = 0; s < samples; ++s) {
      size_t i = std::uniform_int_distribution<size_t>(0, opt_.agents - 1)(random);
      AgentProbe& p = agents_[i]->probe();
      int64_t before = p.revision.load();
      SteadyNanos sent = steady_now();
      // Round the plane: a change through one server reaches agents held by another.
      api_call(client, api_for(s), "PATCH", "/v1/environments/" + env_name(i) + "/services/db", next_allowlist());
      api_latency.push_back(seconds_between(sent, steady_now()));
      if (!wait_until([&] { return p.revision.load() > before; }, 60s)) {
        ++lost;
        continue;
      }
      latency.push_back(seconds_between(sent, p.revision_at.load()));
    }
    result_[key] = {{"to_agent", distribution(latency)}, {"api", distribution(api_latency)}, {"lost", lost}};
    std::printf(
        "%s: %zu samples, PATCH sent -> agent has it: p50 %.3f s, p99 %.3f s, max %.3f s "
        "(PATCH answered: p50 %.3f s, p99 %.3f s); lost %zu\n",
        key.c_str(), latency.size(), percentile(latency, 50), percentile(latency, 99),
        latency.empty() ? 0.0 : *std::max_element(latency.begin(), latency.end()),
        percentile(api_latency, 50), percentile(api_latency, 99), lost);
  }

  // One PATCH per environment, `api_threads` at a time, until every agent
  // has received its environment's new revision.
  void all_environments_change() {
    std::vector<int64_t> before(opt_.agents);
    std::vector<SteadyNanos> sent(opt_.agents);
    for (size_t i = 0; i < opt_.agents; ++i) before[i] = agents_[i]->probe().revision.load();
    std::string body = next_allowlist();
    auto t0 = steady_now();
    parallel_for(opt_.agents, opt_.api_threads, api_, [&](size_t i, http::Client& c) {
      sent[i] = steady_now();
      api_call(c, api_for(i), "PATCH", "/v1/environments/" + env_name(i) + "/services/db", body);
    });
    auto api_done = steady_now();
    bool ok = wait_until(
        [&] {
          for (size_t i = 0; i < opt_.agents; ++i)
            if (agents_[i]->probe().revision.load() <= before[i]) return false;
          return true;
        },
        600s);
    if (!ok) throw Error::Unavailable("not every agent received the change within 600 s");
    std::vector<double> latency;
    SteadyNanos last = 0;
    for (size_t i = 0; i < opt_.agents; ++i) {
      SteadyNanos at = agents_[i]->probe().revision_at.load();
      latency.push_back(seconds_between(sent[i], at));
      last = std::max(last, at);
    }
    result_["all_env_change"] = {
        {"api_seconds", seconds_between(t0, api_done)},
        {"all_received_seconds", seconds_between(t0, last)},
        {"per_environment", distribution(latency)},
        {"patch_rate", static_cast<double>(opt_.agents) / seconds_between(t0, api_done)}};
    std::printf(
        "all-env change: %zu PATCHes (%d at a time) answered in %.1f s (%.0f/s); every agent had its "
        "new revision at %.1f s; per environment PATCH sent -> agent has it: p50 %.3f s, p99 %.3f s\n",
        opt_.agents, opt_.api_threads, seconds_between(t0, api_done),
        static_cast<double>(opt_.agents) / seconds_between(t0, api_done), seconds_between(t0, last),
        percentile(latency, 50), percentile(latency, 99));
    settle();
    note_rss("after_all_env_change");
  }

  // kill -9 and restart of the server (by the given command), then until
  // every agent is back: reconnected (TLS done) and its first sync to the new
  // server processed. The server answers a current agent only when its hold
  // (hold_ms) runs out, so processing time ≤ answer time − hold: an upper bound.
  void restart() {
    settle();
    Counters before = counters();
    SteadyNanos killed = steady_now();
    int rc = run_command(opt_.restart_cmd);
    SteadyNanos up = steady_now();
    if (rc != 0) throw Error::Unavailable("the restart command failed");
    bool ok = wait_until(
        [&] {
          return all([&](AgentProbe& p) { return p.connected_at.load() > up && p.unchanged_at.load() > up; });
        },
        std::chrono::seconds(opt_.hold_ms / 1000 + 300));
    if (!ok) throw Error::Unavailable("not every agent came back after the restart");
    std::vector<size_t> everyone(opt_.agents);
    for (size_t i = 0; i < opt_.agents; ++i) everyone[i] = i;
    auto [reconnected, processed, failures, resumed, connections] = comeback(everyone, before, 0);
    result_["restart"] = {{"server_down_to_up_seconds", seconds_between(killed, up)},
                          {"all_reconnected_seconds", seconds_between(killed, reconnected)},
                          {"all_in_sync_seconds", seconds_between(killed, processed)},
                          {"all_in_sync_after_up_seconds", seconds_between(up, processed)},
                          {"failed_attempts", failures},
                          {"connections", connections},
                          {"resumed_sessions", resumed}};
    std::printf(
        "restart: kill -9 + restart took %.2f s; all agents reconnected at %.1f s and in sync (first sync "
        "processed, upper bound) at %.1f s after the kill; %lld failed attempts, %lld new connections, "
        "%lld resumed TLS sessions\n",
        seconds_between(killed, up), seconds_between(killed, reconnected), seconds_between(killed, processed),
        static_cast<long long>(failures), static_cast<long long>(connections),
        static_cast<long long>(resumed));
    note_rss("after_restart");
  }

  // Every agent's counters, to tell what a kill cost.
  struct Counters {
    std::vector<int64_t> failures, resumed, connections;
  };
  Counters counters() {
    Counters c;
    for (const auto& a : agents_) {
      c.failures.push_back(a->probe().failures.load());
      c.resumed.push_back(a->probe().resumed.load());
      c.connections.push_back(a->probe().connections.load());
    }
    return c;
  }
  // How `which` agents came back after a kill: when the last reconnected, when
  // the last first sync was processed (answer − hold, an upper bound: a
  // current agent is answered when the hold runs out), and what it cost
  // them since `before`.
  struct Comeback {
    SteadyNanos reconnected, processed;
    int64_t failures, resumed, connections;
  };
  Comeback comeback(const std::vector<size_t>& which, const Counters& before, SteadyNanos since) {
    SteadyNanos hold = static_cast<SteadyNanos>(opt_.hold_ms) * 1'000'000;
    Comeback c{since, since, 0, 0, 0};
    for (size_t i : which) {
      AgentProbe& p = agents_[i]->probe();
      c.reconnected = std::max(c.reconnected, p.connected_at.load());
      c.processed = std::max(c.processed, p.unchanged_at.load() - hold);
      c.failures += p.failures.load() - before.failures[i];
      c.resumed += p.resumed.load() - before.resumed[i];
      c.connections += p.connections.load() - before.connections[i];
    }
    return c;
  }

  // kill -9 of the first server, no restart, then until every agent it held is
  // back: reconnected to another server and its first sync there processed
  // (answer time − hold, an upper bound, as after a restart).
  void failover() {
    settle();
    std::vector<size_t> moved;
    for (size_t i = 0; i < opt_.agents; ++i)
      if (agents_[i]->probe().server.load() == 0) moved.push_back(i);
    Counters before = counters();
    int pid = server_pid(0);
    SteadyNanos killed = steady_now();
    ::kill(pid, SIGKILL);
    alive_.erase(alive_.begin());
    auto back = [&](size_t i) {
      AgentProbe& p = agents_[i]->probe();
      return p.server.load() != 0 && p.connected_at.load() > killed && p.unchanged_at.load() > killed;
    };
    bool ok = wait_until([&] { return std::all_of(moved.begin(), moved.end(), back); },
                         std::chrono::seconds(opt_.hold_ms / 1000 + 300));
    if (!ok) throw Error::Unavailable("not every agent of the killed server came back on another");
    auto [reconnected, processed, failures, resumed, connections] = comeback(moved, before, killed);
    result_["failover"] = {{"agents_moved", moved.size()},
                           {"all_reconnected_seconds", seconds_between(killed, reconnected)},
                           {"all_in_sync_seconds", seconds_between(killed, processed)},
                           {"failed_attempts", failures},
                           {"connections", connections},
                           {"resumed_sessions", resumed}};
    std::printf(
        "failover: kill -9 of server 1 (%zu agents); all reconnected to another at %.1f s and in sync (first "
        "sync processed, upper bound) at %.1f s after the kill; %lld failed attempts, %lld new connections, "
        "%lld resumed TLS sessions\n",
        moved.size(), seconds_between(killed, reconnected), seconds_between(killed, processed),
        static_cast<long long>(failures), static_cast<long long>(connections), static_cast<long long>(resumed));
    note_rss("after_failover");
  }

  Options opt_;
  ApiTarget api_;
  std::vector<ApiTarget> apis_;
  std::vector<size_t> alive_;  // indexes of apis_ still running
  std::string host_;
  std::vector<int> ports_;
  json result_;
  std::vector<std::string> tokens_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_guard_;
  std::vector<std::thread> io_threads_;
  std::unique_ptr<FleetShared> shared_;
  std::vector<std::shared_ptr<SimAgent>> agents_;
  int change_ = 0;
  std::unique_ptr<http::Client> lister_;
  SteadyNanos listed_at_ = 0;
  size_t listed_count_ = 0;
};

std::string cell(const json& r, const std::vector<std::string>& path, const char* format, double scale = 1) {
  const json* j = &r;
  for (const auto& p : path) {
    if (!j->is_object() || !j->contains(p)) return "-";
    j = &(*j)[p];
  }
  if (!j->is_number()) return "-";
  char out[64];
  std::snprintf(out, sizeof out, format, j->get<double>() * scale);
  return out;
}

void summarize(const std::vector<std::string>& paths) {
  std::vector<json> runs;
  for (const auto& p : paths) runs.push_back(json::parse(files::read(p)));
  struct Row {
    const char* label;
    std::vector<std::string> path;
    const char* format;
    double scale;
  };
  std::vector<Row> rows = {
      {"servers", {"servers"}, "%.0f", 1},
      {"server RSS, all synced (MiB)", {"rss_mib", "synced", "rss"}, "%.0f", 1},
      {"server 2 RSS, all synced (MiB)", {"rss_mib", "synced", "server2", "rss"}, "%.0f", 1},
      {"server RSS, all services READY (MiB)", {"rss_mib", "services_ready", "rss"}, "%.0f", 1},
      {"server RSS, peak before restart (MiB)", {"rss_mib", "after_all_env_change", "peak"}, "%.0f", 1},
      {"server 2 RSS, peak (MiB)", {"rss_mib", "after_all_env_change", "server2", "peak"}, "%.0f", 1},
      {"server RSS, all back after restart (MiB)", {"rss_mib", "after_restart", "rss"}, "%.0f", 1},
      {"setup: envs + join tokens (s)", {"setup_seconds"}, "%.1f", 1},
      {"all joined (s)", {"join_seconds"}, "%.1f", 1},
      {"all joined + synced (s)", {"join_and_sync_seconds"}, "%.1f", 1},
      {"service per env: all agents have it (s)", {"services", "all_received_seconds"}, "%.1f", 1},
      {"service per env: all READY (s)", {"services", "all_ready_seconds"}, "%.1f", 1},
      {"1-env change -> agent p50 (ms)", {"one_env_change", "to_agent", "p50"}, "%.0f", 1000},
      {"1-env change -> agent p99 (ms)", {"one_env_change", "to_agent", "p99"}, "%.0f", 1000},
      {"all-env change: PATCHes done (s)", {"all_env_change", "api_seconds"}, "%.1f", 1},
      {"all-env change: all agents have it (s)", {"all_env_change", "all_received_seconds"}, "%.1f", 1},
      {"all-env change per env p50 (s)", {"all_env_change", "per_environment", "p50"}, "%.2f", 1},
      {"all-env change per env p99 (s)", {"all_env_change", "per_environment", "p99"}, "%.2f", 1},
      {"kill -9 -> server up (s)", {"restart", "server_down_to_up_seconds"}, "%.2f", 1},
      {"kill -9 -> all reconnected (s)", {"restart", "all_reconnected_seconds"}, "%.1f", 1},
      {"kill -9 -> all in sync (s)", {"restart", "all_in_sync_seconds"}, "%.1f", 1},
      {"after restart 1-env p99 (ms)", {"one_env_change_after_restart", "to_agent", "p99"}, "%.0f", 1000},
      {"kill -9 of server 1: its agents", {"failover", "agents_moved"}, "%.0f", 1},
      {"  -> all on server 2 (s)", {"failover", "all_reconnected_seconds"}, "%.1f", 1},
      {"  -> all in sync (s)", {"failover", "all_in_sync_seconds"}, "%.1f", 1},
      {"  server 2 RSS after (MiB)", {"rss_mib", "after_failover", "server2", "rss"}, "%.0f", 1},
      {"after failover 1-env p99 (ms)", {"one_env_change_after_failover", "to_agent", "p99"}, "%.0f", 1000},
  };
  std::printf("%-40s", "agents");
  for (const auto& r : runs) std::printf(" %12s", cell(r, {"agents"}, "%.0f").c_str());
  std::printf("\n");
  for (const auto& row : rows) {
    std::printf("%-40s", row.label);
    for (const auto& r : runs) std::printf(" %12s", cell(r, row.path, row.format, row.scale).c_str());
    std::printf("\n");
  }
}

}  // namespace
}  // namespace byoc::bench

int main(int argc, char** argv) {
  using namespace byoc::bench;
  CLI::App app("Simulated agents against one byoc server (see bench/README.md)");
  Options o;
  std::vector<std::string> summaries, data_dirs;
  std::string work_dir, result;
  app.add_option("--data-dir", data_dirs,
                 "The running server's data dir (server.json, admin.token, ca.pem); once per server of the plane");
  app.add_flag("--kill-first", o.kill_first, "With several servers: kill -9 the first and time its agents' failover");
  app.add_option("--agents", o.agents, "Number of agents (and environments)")->capture_default_str();
  app.add_option("--work-dir", work_dir, "Where the agents keep their keys (default: under /dev/shm)");
  app.add_option("--api-threads", o.api_threads, "Concurrent API clients for setup, joins and PATCHes")
      ->capture_default_str();
  app.add_option("--io-threads", o.io_threads, "Threads running the agents")->capture_default_str();
  app.add_option("--samples", o.samples, "One-environment changes to time")->capture_default_str();
  app.add_option("--restart-cmd", o.restart_cmd, "Shell command that kills -9 and restarts the server");
  app.add_option("--hold-ms", o.hold_ms, "How long the server holds a sync with nothing new")
      ->capture_default_str();
  app.add_option("--result", result, "Write the figures here (JSON)");
  app.add_option("--summarize", summaries, "Print a table of these result files and exit");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!summaries.empty()) {
      summarize(summaries);
      return 0;
    }
    if (data_dirs.empty()) throw byoc::Error::Invalid("required", "--data-dir is required", "data-dir");
    for (const auto& d : data_dirs) o.data_dirs.emplace_back(d);
    o.work_dir = work_dir;
    raise_open_file_limit();
    std::signal(SIGPIPE, SIG_IGN);
    spdlog::set_level(spdlog::level::warn);  // the join code logs each join
    nlohmann::json r;
    {
      Bench bench(o);
      r = bench.run();
    }
    if (!result.empty()) byoc::files::write_atomic(result, r.dump(2) + "\n", 0644);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "agents_bench: %s\n", e.what());
    return 1;
  }
}
