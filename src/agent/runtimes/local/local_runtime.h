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
//   <root>/<service>/rollout.json        the version rollout and its step under way (0600)
//   <root>/<service>/s<shard>r<replica>/ config, users, data, logs of a replica; version.json
//                                        (the version it runs) and config.d/byoc-version.xml
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
// Versions: a replica runs the binary its version names in `versions`,
// with the version's config_revision as the macro {config_revision} (and
// the version's name as {byoc_version}) in config.d/byoc-version.xml. A
// spec whose version needs another binary or config_revision than a replica
// runs is rolled out replica by replica, shard-major (s1r1, s1r2, s2r1...),
// one at a time whatever max_unavailable asks (a larger one is honoured as
// 1): apply() records the target (spec.json, rollout.json) and returns;
// supervise() advances one phase at a time — take the replica out of the
// endpoint and confirm the reload, stop it gracefully, record its new
// version and start it, pass the gates (rollout_gates.h, each bounded), put
// it back in the endpoint and confirm. No step begins at or after the
// request's not_after (the rollout waits, reason rollout_waiting); one begun
// before runs to its end. A failed gate puts the replica back on its old
// version and stops the rollout (failed, reason rollout_failed, READY once
// the old version serves again); the same request id sent again leaves it
// failed, a new id starts over. While rolling the service is PROVISIONING
// "rolling", READY only once every replica runs the spec's version. A change
// that restarts nothing (users, clusters, allowlist: hot-reloaded) completes
// at once; sizing takes effect at a replica's next start.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "agent/runtime.h"
#include "agent/versions.h"
#include "agent/runtimes/local/supervisor.h"
#include "agent/runtimes/local/zookeeper.h"
#include "base/clock.h"
#include "base/crypto.h"

namespace byoc::agent {

struct LocalRuntimeOptions {
  std::filesystem::path root;               // created 0700 if missing
  crypto::KeyedCertificate environment_ca;  // issues endpoint certificates
  const Clock* clock = nullptr;             // required: time, backoff and health checks

  // What each version name runs (the agent's versions.json): a spec whose
  // clickhouse_version ("" = 18.16.1) has no binary here is refused with
  // "unsupported_version".
  VersionList versions = default_versions();
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
