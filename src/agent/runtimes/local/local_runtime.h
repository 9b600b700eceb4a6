// The `local` runtime: ClickHouse replicas as real clickhouse-server processes
// on 127.0.0.1 (each with its own ports), each service behind its own nginx
// endpoint serving HTTPS, and the native protocol over TLS, with a
// certificate from the environment's CA. Services of 1-64 shards x 1-16
// replicas; every service has a cluster named after it (ON CLUSTER,
// Distributed), and services with more than one replica in all share one
// ZooKeeper per runtime root, each in its own chroot (/byoc/<service>).
// Layout under `root`:
//   <root>/<service>/spec.json           the last applied spec (0600)
//   <root>/<service>/ports.json          ports picked once, reused on restart
//   <root>/<service>/cluster.secret      the internal cluster user's password (0600)
//   <root>/<service>/support.secret      the `support` user's password (0600), with the gateway
//   <root>/<service>/s<shard>r<replica>/ config, users, data, logs of a replica
//   <root>/<service>/endpoint/           nginx config, certificate (key 0600), logs
//   <root>/_zookeeper/                   zoo.cfg, data, logs; while a replicated service exists
// Every directory is 0700; config files holding hashes, passwords or keys are 0600.
//
// The endpoint load-balances over every replica of every shard that has
// answered /ping (the runtime re-renders and reloads nginx as replicas go down
// and come back; nginx's passive checks cover the time in between). It always
// lets 127.0.0.1 (the runtime's own probes) read /ping and /.byoc/revision;
// every other path obeys the service's allowlist.
//
// With the support gateway on (set_support_gateway), the same nginx serves a
// second HTTPS port that wants a client certificate from the support CA (and
// its CRL), asks the agent's gateway check about every request, and forwards
// what it admits from 127.0.0.3 as `support` — a read-only user, limited to
// the `system` database, whose every query is logged with the certificate's
// serial as its quota key; `support` accepts connections from that address
// only, and its password (random, support.secret) is known to nginx alone.
//
// Stops are ordered and bounded: endpoints first (so ClickHouse has no
// keep-alive clients left), then replicas, then ZooKeeper, each group
// signalled together under one deadline.
//
// apply() writes the files and starts what can start at once (processes
// are spawned, not waited for); supervise() starts the rest in order —
// ZooKeeper, the service's chroot, the replicas, then the endpoint once they
// answer — and sends and confirms nginx reloads. A service is READY when its
// endpoint serves the config on disk (no worker of an older one left), every
// replica answers, and (if it has one) ZooKeeper answers. Changing the shards
// or replicas of an existing service is refused with "unsupported_topology"
// (it would need tables copied to new replicas); so is a topology the machine
// has no free ports for.
//
// A rollout request (spec.rollout) is kept with the service (spec.json) but
// not acted on yet: apply() restarts no replica — users, clusters and the
// endpoint are hot-reloaded, so no change takes a replica out of service and
// there is nothing to roll; settings ClickHouse reads only at start (sizing)
// take effect at a replica's next start. Changes that restart replicas
// (version upgrades) are where it will be honoured.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "agent/runtime.h"
#include "agent/runtimes/local/supervisor.h"
#include "agent/runtimes/local/zookeeper.h"
#include "base/clock.h"
#include "base/crypto.h"

namespace byoc::agent {

struct LocalRuntimeOptions {
  std::filesystem::path root;               // created 0700 if missing
  crypto::KeyedCertificate environment_ca;  // issues endpoint certificates
  const Clock* clock = nullptr;             // required: time, backoff and health checks

  std::filesystem::path clickhouse_binary = "/usr/sbin/clickhouse-server";
  std::filesystem::path nginx_binary = "/usr/sbin/nginx";
  // Native protocol over TLS through nginx's stream module; when this file is
  // missing (nginx-light) or the path is empty, only HTTPS is served.
  std::filesystem::path nginx_stream_module = "/usr/lib/nginx/modules/ngx_stream_module.so";
  local::ZooKeeperOptions zookeeper;
  local::BackoffPolicy restart_backoff;
};

// Takes an exclusive lock on <root>/.lock for the runtime's lifetime: a second
// runtime on the same root (another agent) throws byoc::Error kConflict.
// Destroying the runtime leaves its processes running (pid files on disk), so
// the next runtime on this root adopts them — including a process started
// just before a crash left no pid file, found by its command line — and never
// starts a second copy; call stop_all() to stop them.
std::unique_ptr<Runtime> make_local_runtime(const LocalRuntimeOptions& options);

}  // namespace byoc::agent
