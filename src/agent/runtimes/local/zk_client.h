// ZooKeeperClient: the few node operations the local runtime needs on the
// environment's ZooKeeper — create a service's chroot before its replicas
// start (ClickHouse 18.16 won't create it) and delete it with the service —
// over ZooKeeper's official C client (libzookeeper_mt), synchronous calls only.
//
// One session per object, closed on destruction. Not thread-safe: one
// thread per client (the library's own I/O threads are hidden behind it).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace byoc::agent::local {

class ZooKeeperClient {
 public:
  // Opens a session with host:port, waiting up to `timeout` for it to be
  // established. Throws byoc::Error kUnavailable if it is not.
  ZooKeeperClient(const std::string& host, int port, std::chrono::milliseconds timeout);
  ~ZooKeeperClient();
  ZooKeeperClient(const ZooKeeperClient&) = delete;
  ZooKeeperClient& operator=(const ZooKeeperClient&) = delete;

  // Creates `path` and its missing ancestors (empty, persistent, open ACL: the
  // server listens on loopback only). An existing node is fine.
  void create_path(const std::string& path);
  bool exists(const std::string& path);
  std::vector<std::string> children(const std::string& path);
  // Deletes `path` and everything below it; a missing node is fine.
  void remove_recursive(const std::string& path);
  // Deletes the node if it exists; true if it did.
  bool remove(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A replica killed with -9 leaves its ZooKeeper session, and with it the
// ephemeral `is_active` node of each of its ReplicatedMergeTree tables, until
// the session times out (30 s); meanwhile its next process can't start
// replicating ("appears to be already active") and retries only every 10 s.
// Called while the replica is known dead, this deletes those nodes: every
// `<table>/replicas/<replica>/is_active` below `root`, a table being a node
// with both `replicas` and `log` children. Subtrees named in `skip` (the DDL
// queue) are not walked. Returns how many were deleted.
int remove_replica_active_marks(ZooKeeperClient& zk, const std::string& root, const std::string& replica,
                                const std::vector<std::string>& skip = {});

// The ReplicatedMergeTree tables below `root`: nodes with both `replicas`
// and `log` children (subtrees named in `skip` are not walked).
std::vector<std::string> replicated_tables(ZooKeeperClient& zk, const std::string& root,
                                           const std::vector<std::string>& skip = {});

// A replica removed from its service for good: deletes its node (queue, log
// pointer, parts) from every table below `root`, as later ClickHouse's
// SYSTEM DROP REPLICA does, so the others stop keeping their log for it.
// Call once its process is stopped. Returns how many tables had it.
int remove_replica(ZooKeeperClient& zk, const std::string& root, const std::string& replica,
                   const std::vector<std::string>& skip = {});

}  // namespace byoc::agent::local
