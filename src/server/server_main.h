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
};

// Runs until SIGINT/SIGTERM. On start it writes DIR/server.json
// {"url": "https://HOST:PORT", "pid": N} once listening, and holds DIR/server.lock.
// Returns the process exit code; throws byoc::Error on bad options.
int run_server(const ServerOptions& options);

}  // namespace byoc::server
