#include "cli/daemon_commands.h"

#include <sstream>

#include "agent/agent_main.h"
#include "cli/config.h"
#include "cli/render_kubernetes_command.h"
#include "server/server_main.h"

namespace byoc::cli {
namespace fs = std::filesystem;

namespace {

// Daemons may spawn children with another working directory: hand them absolute paths.
fs::path absolute_or_empty(const std::string& path) {
  return path.empty() ? fs::path() : fs::absolute(path).lexically_normal();
}

}  // namespace

void add_server_command(CLI::App& app, CommandSet& commands) {
  struct Flags {
    std::string listen = "127.0.0.1:8443";
    std::string data_dir, tls_cert, tls_key, access_log, store, keys_from, local_cloud_dir, advertise, agent_image;
    int io_threads = 2;
    int lease_seconds = 30;
    double handshake_timeout = 10, header_timeout = 10, body_timeout = 10, keepalive_timeout = 120;
    size_t max_connections = 0, max_pending_per_source = 1024;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = app.add_subcommand("server", "Run the management plane (API, controllers, local agents)");
  sub->add_option("--listen", f->listen, "HOST:PORT to serve HTTPS on; port 0 picks a free one")
      ->capture_default_str();
  sub->add_option("--data-dir", f->data_dir, "Directory the server keeps all its state in")->required();
  auto* cert = sub->add_option("--tls-cert", f->tls_cert, "Serving chain (PEM, ending with its CA)");
  auto* key = sub->add_option("--tls-key", f->tls_key, "Private key of --tls-cert");
  cert->needs(key);
  key->needs(cert);
  sub->add_option("--io-threads", f->io_threads, "Threads serving HTTP")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  auto seconds = CLI::Range(0.05, 3600.0);
  sub->add_option("--handshake-timeout", f->handshake_timeout, "Seconds a connection has to finish its TLS handshake")
      ->check(seconds)
      ->capture_default_str();
  sub->add_option("--header-timeout", f->header_timeout, "Seconds a request head has from its first byte")
      ->check(seconds)
      ->capture_default_str();
  sub->add_option("--body-timeout", f->body_timeout,
                  "Seconds between two reads of a request body (which must also average 16 KiB/s)")
      ->check(seconds)
      ->capture_default_str();
  sub->add_option("--keepalive-timeout", f->keepalive_timeout, "Seconds an idle keep-alive connection stays open")
      ->check(seconds)
      ->capture_default_str();
  sub->add_option("--max-connections", f->max_connections, "Connections at once (0: the open-file limit less 256)")
      ->capture_default_str();
  sub->add_option("--max-pending-per-source", f->max_pending_per_source,
                  "Connections one client address may hold before its request head is in (the oldest is closed)")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->capture_default_str();
  sub->add_option("--access-log", f->access_log, "Write a JSON line per request to this file (- for stderr); off by default");
  sub->add_option("--store", f->store,
                  "postgresql://USER@HOST:PORT/DB (a libpq URI; password in ~/.pgpass or PGPASSWORD) for a plane "
                  "of several servers; default: SQLite in the data dir");
  sub->add_option("--keys-from", f->keys_from,
                  "Data dir of a server of the same plane: copy its CA, agent CA, session-ticket secret, audit log "
                  "key and admin token here first");
  sub->add_option("--lease-seconds", f->lease_seconds,
                  "How long a reconcile's lease lasts unrenewed: another server takes over a dead one's work after it")
      ->check(CLI::Range(2, 3600))
      ->capture_default_str();
  sub->add_option("--local-cloud-dir", f->local_cloud_dir,
                  "Where `local` environments live (default DATA_DIR/environments); servers of one plane share it");
  sub->add_option("--advertise", f->advertise,
                  "https://HOST:PORT agents and the plane's other servers reach this server at (default: from --listen)");
  sub->add_option("--agent-image", f->agent_image,
                  "The agent's container image, installed in the EKS clusters of aws environments (default: "
                  "BYOC_AGENT_IMAGE; build it with deploy/agent/Dockerfile)");
  on_run(sub, commands, [f] {
    server::ServerOptions options;
    auto ms = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); };
    options.timeouts.handshake = ms(f->handshake_timeout);
    options.timeouts.header = ms(f->header_timeout);
    options.timeouts.body = ms(f->body_timeout);
    options.timeouts.keepalive = ms(f->keepalive_timeout);
    options.max_connections = f->max_connections;
    options.max_pending_per_source = f->max_pending_per_source;
    if (!f->access_log.empty()) options.access_log = f->access_log == "-" ? std::filesystem::path("-") : absolute_or_empty(f->access_log);
    options.listen = f->listen;
    options.data_dir = absolute_or_empty(f->data_dir);
    options.tls_cert = absolute_or_empty(f->tls_cert);
    options.tls_key = absolute_or_empty(f->tls_key);
    options.io_threads = f->io_threads;
    options.store = f->store;
    options.keys_from = absolute_or_empty(f->keys_from);
    options.lease = std::chrono::seconds(f->lease_seconds);
    options.local_cloud_dir = absolute_or_empty(f->local_cloud_dir);
    options.advertise_url = f->advertise;
    options.agent_image = f->agent_image;
    return server::run_server(options);
  });
}

void add_agent_command(CLI::App& app, CommandSet& commands) {
  struct Flags {
    std::string state_dir, server, join_token_file;
    std::string runtime = "local";
    std::vector<std::string> runtime_options;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = app.add_subcommand("agent", "Run the data-plane agent of an external environment");
  sub->add_option("--state-dir", f->state_dir, "Directory for the agent's keys, state and services")
      ->required();
  sub->add_option("--server", f->server,
                  "https://HOST:PORT of the management plane; several servers of one plane, comma-separated")
      ->required();
  sub->add_option("--join-token-file", f->join_token_file,
                  "File holding the join token (first start only; or set BYOC_JOIN_TOKEN)");
  sub->add_option("--runtime", f->runtime,
                  "How services run: local (processes on this machine) or kubernetes (objects in the cluster the "
                  "agent runs in, or a kubeconfig's)")
      ->capture_default_str();
  sub->add_option("--runtime-option", f->runtime_options,
                  "KEY=VALUE for the runtime, repeatable (kubernetes: kubeconfig, context, namespace, registry, "
                  "storage-class, ...; see docs/kubernetes.md)");
  add_render_kubernetes_command(*sub, commands);
  on_run(sub, commands, [f] {
    agent::AgentOptions options;
    options.state_dir = absolute_or_empty(f->state_dir);
    std::stringstream list(f->server);
    for (std::string url; std::getline(list, url, ',');)
      if (!url.empty()) options.server_urls.push_back(normalize_server_url(url, "server"));
    options.join_token_file = absolute_or_empty(f->join_token_file);
    options.runtime = f->runtime;
    for (const auto& entry : f->runtime_options) {
      size_t equals = entry.find('=');
      if (equals == std::string::npos || equals == 0)
        throw Error::Invalid("invalid_runtime_option", "--runtime-option takes KEY=VALUE, not '" + entry + "'",
                             "runtime-option");
      if (!options.runtime_settings.emplace(entry.substr(0, equals), entry.substr(equals + 1)).second)
        throw Error::Invalid("invalid_runtime_option",
                             "--runtime-option " + entry.substr(0, equals) + " is given more than once", "runtime-option");
    }
    return agent::run_agent(options);
  });
}

}  // namespace byoc::cli
