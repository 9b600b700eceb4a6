#include "agent/runtimes/local/rollout_gates.h"

#include <chrono>
#include <optional>

#include "agent/runtimes/local/probes.h"

namespace byoc::agent::local {
namespace {

// The answer's first line, or nullopt if the query failed.
std::optional<std::string> ask(const replicas::ReplicaAccess& replica, const std::string& sql) {
  auto body = replicas::query_replica(replica, sql);
  if (!body) return std::nullopt;
  return body->substr(0, body->find('\n'));
}

}  // namespace

const char* to_string(Gate gate) {
  switch (gate) {
    case Gate::kStart: return "start";
    case Gate::kPing: return "ping";
    case Gate::kReplicationQueue: return "replication_queue";
    case Gate::kCluster: return "cluster";
  }
  return "start";
}

bool gate_passes(Gate gate, const replicas::ReplicaAccess& replica) {
  switch (gate) {
    case Gate::kStart:
      return true;
    case Gate::kPing:
      return clickhouse_answers(replica.http_port) && ask(replica, "SELECT 1") == "1";
    case Gate::kReplicationQueue:
      return ask(replica, "SELECT count() FROM system.replication_queue") == "0";
    case Gate::kCluster:
      if (!replica.replicated) return true;
      // A live session: ZooKeeper readable through the replica's own client,
      // and no table read-only for want of it.
      return ask(replica, "SELECT count() > 0 FROM system.zookeeper WHERE path = '/'") == "1" &&
             ask(replica, "SELECT count() FROM system.replicas WHERE is_session_expired OR is_readonly") == "0";
  }
  return false;
}

}  // namespace byoc::agent::local
