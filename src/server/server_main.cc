#include "server/server_main.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <atomic>
#include <thread>

#include "base/error.h"
#include "base/crypto.h"
#include "base/files.h"
#include "base/log.h"
#include "base/process.h"
#include "cloud/drivers.h"
#include "controllers/access_controller.h"
#include "controllers/environment_controller.h"
#include "controllers/runner.h"
#include "controllers/upgrade_controller.h"
#include "controllers/service_operations.h"
#include "access/access_event.h"
#include "server/access_log.h"
#include "server/audit_trail.h"
#include "server/dispatcher.h"
#include "server/https_server.h"
#include "server/routes.h"

#include "model/protocol.h"
#include "server/plane.h"
#include "server/session_tickets.h"
#include "server/tokens.h"

namespace byoc::server {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kLocalJoinTokenLifetime = 3600;

std::pair<std::string, int> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    throw Error::Invalid("invalid_listen", "--listen must be HOST:PORT", "listen");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) throw Error::Invalid("invalid_listen", "port must be 0-65535", "listen");
  return {host, port};
}

// Every agent holds a connection: lift the soft descriptor limit to the hard one.
// Returns the limit in force.
size_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlim_t wanted = limit.rlim_max;
    limit.rlim_cur = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) spdlog::warn("cannot raise the open-file limit");
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<size_t>(limit.rlim_cur);
}

// Connections may use the descriptors the store, logs, children and the
// listener don't.
size_t connection_limit(size_t requested, size_t open_files) {
  constexpr size_t kReserve = 256;
  size_t available = open_files > kReserve + 64 ? open_files - kReserve : 64;
  available = std::min<size_t>(available, 1'000'000);
  return requested == 0 ? available : std::min(requested, available);
}

// Everything the server keeps directly in its data dir is its own: 0600,
// including files an older version made 0644 and the store's WAL and
// shared-memory files.
void tighten_data_dir(const fs::path& data_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    fs::permissions(entry.path(), fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
  }
}

std::string url_host(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) return "127.0.0.1";
  if (host == "::") return "[::1]";
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

}  // namespace

int run_server(const ServerOptions& options) {
  // Few malloc arenas: each of the store threads would otherwise get its own,
  // and an arena keeps the peak of whatever passed through it.
  ::mallopt(M_ARENA_MAX, 2);
  log::init("server");
  size_t open_files = raise_open_file_limit();
  if (options.data_dir.empty()) throw Error::Invalid("required", "--data-dir is required", "data-dir");
  auto [host, port] = split_listen(options.listen);
  fs::path data_dir = fs::absolute(options.data_dir);
  files::ensure_dir(data_dir, 0700);
  auto lock = proc::FileLock::try_acquire(data_dir / "server.lock");
  if (!lock) throw Error::Conflict("data_dir_in_use", "another byoc server is using " + data_dir.string(), "data-dir");
  if (options.lease.count() < 2 || options.lease.count() > 3600)
    throw Error::Invalid("invalid_lease", "--lease-seconds must be 2-3600", "lease-seconds");
  if (!options.advertise_url.empty() && !model::is_https_endpoint(options.advertise_url))
    throw Error::Invalid("invalid_advertise", "--advertise must be https://HOST:PORT", "advertise");

  SystemClock clock;
  tighten_data_dir(data_dir);
  if (!options.keys_from.empty()) take_plane_keys(fs::absolute(options.keys_from), data_dir);
  const bool shared_store = store::is_postgres_uri(options.store);
  auto store = store::open_store(options.store, data_dir);
  spdlog::info("store: {}", options.store.empty() ? (data_dir / "byoc.db").string()
                                                  : store::redacted_store_spec(options.store));
  ServerIdentity identity = load_or_create_identity(data_dir, options.tls_cert, options.tls_key, clock);
  ensure_admin_token(data_dir, *store, clock);

  // Store threads mostly wait for the group commit's WAL sync, not for a
  // CPU: the more callers wait together, the more commits share one sync.
  WorkPool store_pool(16);
  Router router;
  ServerContext* context = nullptr;
  std::unique_ptr<AccessLog> access_log;
  if (!options.access_log.empty()) access_log = std::make_unique<AccessLog>(options.access_log);
  std::unique_ptr<Dispatcher> dispatcher;
  HttpsServerOptions listener;
  listener.host = host;
  listener.port = port;
  listener.cert_chain_pem = identity.serving_chain_pem;
  listener.key_pem = identity.serving_key_pem;
  listener.client_ca_pem = identity.agent_ca.cert_pem;
  listener.io_threads = std::max(1, options.io_threads);
  listener.timeouts = options.timeouts;
  listener.limits.max_connections = connection_limit(options.max_connections, open_files);
  listener.limits.max_pending_per_source = options.max_pending_per_source;
  SessionTicketKeys ticket_keys(data_dir / "session-ticket.key", clock);
  listener.ticket_keys = &ticket_keys;
  listener.on_handshake = [&context](bool resumed) { context->metrics.observe_handshake(resumed); };
  listener.on_close = [&context](const char* reason) { context->metrics.observe_connection_closed(reason); };
  listener.on_rejected = [&dispatcher](const std::string& source, int status) {
    dispatcher->rejected(source, status);
  };
  HttpsServer server(listener, clock, [&dispatcher](HttpRequest& req, std::shared_ptr<Responder> responder) {
    dispatcher->dispatch(req, std::move(responder));
  });
  std::string url = "https://" + url_host(host) + ":" + std::to_string(server.port());
  // What agents and the other servers are told: --advertise, else the
  // listen address — unless that is a wildcard (its 127.0.0.1 stand-in
  // means nothing to another machine) or not a plain https://HOST:PORT.
  std::string advertised = options.advertise_url;
  if (advertised.empty() && host != "0.0.0.0" && host != "::" && !host.empty()) advertised = url;
  if (!advertised.empty() && !model::is_https_endpoint(advertised)) {
    spdlog::warn("not advertising {} to agents (not https://HOST:PORT); give --advertise", advertised);
    advertised.clear();
  }

  // Leases are held in this server's name, stable across its restarts: a
  // server killed mid-reconcile must not wait out its own lease when it
  // comes back (another server, with another data dir, would).
  std::string holder = files::read_if_exists(data_dir / "server.id").value_or("");
  if (holder.empty()) {
    holder = "server-" + crypto::hex(crypto::random_bytes(8));
    files::write_atomic(data_dir / "server.id", holder, 0600);
  }
  PlaneMembership plane(*store, clock, holder, advertised);
  plane.heartbeat();

  cloud::DriverDeps driver_deps;
  driver_deps.data_dir = data_dir;
  driver_deps.byoc_binary = fs::read_symlink("/proc/self/exe");
  driver_deps.server_url = advertised.empty() ? url : advertised;
  driver_deps.plane_urls = [&plane] { return plane.urls(); };
  driver_deps.local_cloud_dir = options.local_cloud_dir;
  // One server alone owns its local agents and stops them with itself;
  // servers sharing a store leave them to the others.
  driver_deps.stop_local_agents_on_shutdown = !shared_store;
  driver_deps.issue_join_token = [&](const std::string& environment_id) {
    NewToken t = make_join_token(identity.ca_sha256_hex);
    store->transact([&](store::Transaction& tx) {
      tx.join_tokens().put(
          {t.id, environment_id, t.secret_sha256_hex, clock.unix_seconds() + kLocalJoinTokenLifetime, 0});
    });
    return t.text;
  };
  driver_deps.clock = &clock;
  driver_deps.agent_image = options.agent_image;
  // Set once the audit logs exist (below); drivers act only after the controllers start.
  access::AuditLogs* cloud_audit = nullptr;
  driver_deps.record_cloud_access = [&](const std::string& environment_id, const nlohmann::json& event) {
    if (!cloud_audit) throw Error::Internal("cloud access before the audit logs exist");
    store->transact([&](store::Transaction& tx) {
      cloud_audit->append(tx, cloud_audit->environment_log(environment_id),
                          access::format_cloud_access_event(clock.unix_millis(), environment_id, event));
    });
  };
  auto drivers = cloud::make_drivers(driver_deps);

  ServerContext ctx(*store, store_pool, clock, identity, cloud::driver_pointers(drivers));
  StoreAdmission admission(*store, store_pool, ctx.tokens);
  access::AuditLogs audit_logs(identity.audit_log_key_pem);
  cloud_audit = &audit_logs;
  AuditTrail audit(*store, store_pool, audit_logs);
  ctx.audit = &audit;
  ctx.audit_logs = &audit_logs;
  // However run_server ends (a throw included), timers and queued store work
  // stop while ctx, which they use, still exists: this goes before ctx does.
  struct Quiesce {
    SystemClock& clock;
    WorkPool& pool;
    store::Store& store;
    ~Quiesce() {
      store.unsubscribe_all();  // another server's message must not reach ctx as it goes
      clock.stop_timers();
      pool.shutdown();
    }
  } quiesce{clock, store_pool, *store};
  context = &ctx;
  ctx.plane = &plane;
  subscribe_to_plane(ctx);
  dispatcher = std::make_unique<Dispatcher>(router, ctx.metrics, clock, access_log.get(), &admission, &audit);
  ctx.metrics.set_connected_agents_source([&ctx] { return static_cast<double>(ctx.presence.connected_count()); });
  ctx.metrics.set_waiting_syncs_source([&ctx] { return static_cast<double>(ctx.waiters.waiting()); });

  controllers::Runner runner(*store, clock, holder, 2, options.lease);
  constexpr std::chrono::seconds kResyncPeriod{10};  // the runner's look at what each lister returns
  runner.on_result([&ctx](const std::string& kind, bool ok) {
    ctx.metrics.observe_reconcile(kind, ok ? "success" : "error");
  });
  ctx.enqueue = [&runner](const std::string& key) { runner.enqueue(key); };
  controllers::EnvironmentController environments(*store, clock, ctx.drivers);
  controllers::ServiceController services(*store, clock);
  controllers::AccessController access_requests(*store, clock, audit_logs);
  controllers::UpgradeController upgrades(*store, clock, ctx.drivers);
  runner.add("environment", &environments);
  runner.add("upgrades", &upgrades);
  runner.add("service", &services);
  runner.add("access", &access_requests);
  // Only environments whose reconcile could change something: not READY, an
  // operation running, or a driver that no longer sees them ready (a local
  // agent that died). A READY `external` environment has nothing to observe,
  // so ten thousand of them cost one read per period, not ten thousand leases.
  runner.add_resync("environment", [&] {
    std::vector<model::Environment> all;
    std::set<std::string> busy;
    store->read([&](store::Transaction& tx) {
      busy.clear();  // this attempt's (a read may run again)
      all = tx.environments().list("");
      for (const auto& op : tx.operations().running("")) busy.insert(op.environment_id);
    });
    std::vector<std::string> ids;
    for (const auto& e : all) {
      auto driver = ctx.drivers.find(e.cloud);
      if (e.state != model::kReady || busy.count(e.id) || driver == ctx.drivers.end() ||
          !driver->second->can_provision() || !driver->second->observe(e).ready)
        ids.push_back(e.id);
    }
    return ids;
  });
  // Upgrades are opened when a version is published or a service created
  // (those queue the environment), and each reconcile queues its own next
  // look (a window's opening, a channel's day). So the environments with
  // open upgrades are listed at start and then only every kUpgradeRecheck,
  // not every period: ten thousand upgrades waiting for a window cost no
  // write every ten seconds.
  int upgrade_resyncs = 0;
  runner.add_resync("upgrades", [&] {
    std::vector<std::string> ids;
    constexpr int kEvery = std::chrono::seconds(controllers::kUpgradeRecheck) / kResyncPeriod;
    if (upgrade_resyncs++ % kEvery != 0) return ids;
    store->read([&](store::Transaction& tx) {
      ids = tx.upgrades().environments_with_open();
      // A resize waiting for its window runs as a service.update operation.
      for (const auto& op : tx.operations().running(""))
        if (op.kind == "service.update") ids.push_back(op.environment_id);
    });
    return ids;
  });
  runner.add_resync("access", [&] {
    std::vector<std::string> ids;
    store->read([&](store::Transaction& tx) { ids = tx.access_requests().open(); });
    return ids;
  });
  runner.add_resync("service", [&] {
    std::vector<std::string> keys;
    store->read([&](store::Transaction& tx) {
      keys.clear();  // this attempt's (a read may run again)
      for (const auto& op : tx.operations().running(""))
        if (!op.service_name.empty()) keys.push_back(op.environment_id + ":" + op.service_name);
    });
    return keys;
  });

  add_api_routes(router, ctx);
  add_agent_routes(router, ctx);
  add_admin_routes(router, ctx);
  add_usage_routes(router, ctx);
  add_audit_routes(router, ctx);
  add_access_routes(router, ctx);
  add_profile_routes(router, ctx);
  add_maintenance_routes(router, ctx);
  add_upgrade_routes(router, ctx);
  add_onboarding_routes(router, ctx);
  add_cloud_routes(router, ctx);
  seed_agent_presence(ctx);

  std::function<void()> sweep = [&] {
    store_pool.post([&] { sweep_agent_presence(ctx); });
    clock.schedule(5s, sweep);
  };
  clock.schedule(5s, sweep);
  // Its own thread: behind a busy store pool a heartbeat could come late
  // enough for the other servers to count this one dead.
  struct Heartbeat {
    std::atomic<bool> stop{false};
    std::thread thread;
    ~Heartbeat() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } heartbeat;
  heartbeat.thread = std::thread([&] {
    while (clock.sleep_for(PlaneMembership::kHeartbeat, &heartbeat.stop)) {
      try {
        plane.heartbeat();
      } catch (const std::exception& e) {
        spdlog::warn("plane heartbeat failed: {}", e.what());
      }
    }
  });

  runner.start(kResyncPeriod);
  files::write_atomic(data_dir / "server.json",
                      nlohmann::json{{"url", url}, {"pid", ::getpid()}, {"id", holder}}.dump() + "\n", 0600);
  spdlog::info("listening on {} (data dir {})", url, data_dir.string());
  server.on_signal([&](int signo) {
    spdlog::info("signal {}: stopping", signo);
    server.stop();
  });
  server.run();

  clock.stop_timers();  // no new long-poll answers or sweeps
  runner.stop();
  store_pool.shutdown();  // what is queued still runs, with ctx alive
  for (auto& [name, driver] : drivers) driver->shutdown();
  try {
    plane.leave();  // the others stop offering this server to agents at once
  } catch (const std::exception& e) {
    spdlog::warn("leaving the plane failed: {}", e.what());
  }
  std::error_code ec;
  fs::remove(data_dir / "server.json", ec);
  spdlog::info("stopped");
  return 0;
}

}  // namespace byoc::server
