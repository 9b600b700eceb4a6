// Entry point of `byoc server`: the management plane in one process.
#pragma once

#include <filesystem>
#include <string>

#include "server/https_server.h"

namespace byoc::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:8443";  // HOST:PORT; port 0 picks a free one
  std::filesystem::path data_dir;         // everything the server owns lives here
  std::filesystem::path tls_cert;         // optional: serving chain (PEM), ending with its CA
  std::filesystem::path tls_key;          // optional: its key
  int io_threads = 2;
  ConnectionTimeouts timeouts;             // see https_server.h
  size_t max_connections = 0;              // 0: the open-file limit less a reserve
  size_t max_pending_per_source = 1024;    // see connection_table.h
  std::filesystem::path access_log;        // empty: off; "-": stderr
  // The store: "" for SQLite in the data dir, or a postgresql:// URI that
  // several servers of one plane share.
  std::string store;
  // Another server's data dir of the same plane: its keys are copied here
  // before anything else (identity.h: take_plane_keys).
  std::filesystem::path keys_from;
  // How long a reconcile's lease lasts without renewal: the time another
  // server waits before it takes over the work of one that died.
  std::chrono::seconds lease{30};
  // Where `local` environments live (default DATA_DIR/environments); servers
  // of one plane on one machine share it.
  std::filesystem::path local_cloud_dir;
  // The URL agents and the other servers reach this one at (default: from --listen).
  std::string advertise_url;
  // The agent's container image, installed in the clusters of aws
  // environments (default: BYOC_AGENT_IMAGE).
  std::string agent_image;
};

// Runs until SIGINT/SIGTERM. On start it writes DIR/server.json
// {"url": "https://HOST:PORT", "pid": N, "id": SERVER_ID} once listening, and
// holds DIR/server.lock.
// Returns the process exit code; throws byoc::Error on bad options.
int run_server(const ServerOptions& options);

}  // namespace byoc::server
