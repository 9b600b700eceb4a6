// The baseline of the data-plane benchmark: a 1 x 2 replicated service
// brought up by hand, in the fewest steps that make it work, with the same
// programs, command lines and rendered files as byoc's local runtime — what
// starting these processes costs, without byoc's orchestration:
//   1. ZooKeeper started, and while it starts the service's files written
//      (configs with remote_servers, macros and <zookeeper> pointing at the
//      service's chroot; the endpoint's certificate from the environment CA
//      and its nginx.conf);
//   2. ZooKeeper polled until it serves (`srvr`), then the chroot created with the same
//      ZooKeeper client code byoc uses (ClickHouse 18.16 doesn't create its
//      root node, and a replica whose first session finds none gives up its
//      DDL queue until restarted, so the replicas can't start before it);
//   3. both clickhouse-servers and nginx started at once; /ping polled,
//      then a query on system.zookeeper on each (see baseline.cc: an
//      ON CLUSTER DDL in the moment before a replica's first session can
//      crash ClickHouse 18.16);
//   4. the ON CLUSTER DDL and an INSERT through the endpoint, and the row
//      counted on both replicas (cluster_proof.h).
// Every run starts from nothing running and no directory (as byoc's
// service create does). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/runtimes/local/ports.h"
#include "base/crypto.h"

namespace byoc::bench {

// When each step finished, from the start of run() (steady clock).
struct BaselineRun {
  std::chrono::milliseconds zookeeper_started{0};   // spawned
  std::chrono::milliseconds files_written{0};       // while ZooKeeper starts
  std::chrono::milliseconds zookeeper_serves{0};    // `srvr` says so
  std::chrono::milliseconds chroot_made{0};
  std::chrono::milliseconds processes_started{0};   // both replicas and nginx spawned
  std::chrono::milliseconds replicas_answer{0};     // both /ping
  std::chrono::milliseconds sessions_up{0};         // both answer a system.zookeeper query
  std::chrono::milliseconds ddl_done{0};
  std::chrono::milliseconds insert_done{0};
  std::chrono::milliseconds replicated{0};          // the row on both replicas: the end
};

class Baseline {
 public:
  // Makes the "environment" CA (byoc's exists before a service is created
  // too). Nothing is written under `dir` until run().
  explicit Baseline(std::filesystem::path dir);
  ~Baseline();  // stops whatever still runs and deletes what run() wrote
  Baseline(const Baseline&) = delete;
  Baseline& operator=(const Baseline&) = delete;

  // One cold start; throws if any step fails or a bound passes (what started
  // is stopped by stop() or the destructor).
  BaselineRun run();
  // Stops what run() started (by pid: nginx, the replicas, ZooKeeper) and
  // deletes every file it wrote, so the next run starts from nothing.
  void stop();

 private:
  pid_t start(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
              const std::filesystem::path& output);

  std::filesystem::path dir_;
  std::filesystem::path root_;  // what run() writes; absent between runs
  crypto::KeyedCertificate ca_;
  int zookeeper_port_ = 0;
  std::string cluster_password_;
  agent::local::ServicePorts ports_;
  std::optional<pid_t> zookeeper_;
  std::vector<pid_t> replicas_;
  std::optional<pid_t> nginx_;
  int runs_ = 0;  // stopped so far
};

}  // namespace byoc::bench
