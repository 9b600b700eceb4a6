// The `local` runtime: ClickHouse replicas as real clickhouse-server processes
// on 127.0.0.1, each service behind its own nginx endpoint serving HTTPS with a
// certificate from the environment's CA. Layout under `root`:
//   <root>/<service>/ports.json          ports picked once, reused on restart
//   <root>/<service>/spec.json           the last applied spec (0600)
//   <root>/<service>/s<shard>r<replica>/ config, users, data, logs of a replica
//   <root>/<service>/endpoint/           nginx config, certificate (key 0600), logs
// Every directory is 0700; config files holding hashes or keys are 0600.
//
// The endpoint always lets 127.0.0.1 (the runtime's own probes) read /ping
// and /.byoc/revision; every other path obeys the service's allowlist.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "agent/runtime.h"
#include "agent/runtimes/local/supervisor.h"
#include "base/clock.h"
#include "base/crypto.h"

namespace byoc::agent {

struct LocalRuntimeOptions {
  std::filesystem::path root;               // created 0700 if missing
  crypto::KeyedCertificate environment_ca;  // issues endpoint certificates
  const Clock* clock = &SystemClock::instance();

  std::filesystem::path clickhouse_binary = "/usr/sbin/clickhouse-server";
  std::filesystem::path nginx_binary = "/usr/sbin/nginx";
  // Native protocol over TLS through nginx's stream module; when this file is
  // missing (nginx-light) or the path is empty, only HTTPS is served.
  std::filesystem::path nginx_stream_module = "/usr/lib/nginx/modules/ngx_stream_module.so";
  // How long apply() waits for replicas and endpoint to answer.
  std::chrono::milliseconds ready_timeout{60'000};
  local::BackoffPolicy restart_backoff;
};

// Takes an exclusive lock on <root>/.lock for the runtime's lifetime: a second
// runtime on the same root (another agent) throws byoc::Error kConflict.
// Destroying the runtime leaves its processes running (pid files on disk), so
// the next runtime on this root adopts them; call stop_all() to stop them.
std::unique_ptr<Runtime> make_local_runtime(const LocalRuntimeOptions& options);

}  // namespace byoc::agent
