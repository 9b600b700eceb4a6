#include "agent/runtimes/local/rollout_gates.h"

#include <chrono>
#include <optional>

#include "agent/runtimes/local/probes.h"
#include "base/error.h"
#include "base/http_client.h"

namespace byoc::agent::local {
namespace {

constexpr std::chrono::milliseconds kQueryTimeout{2'000};

// The answer's first line, or nullopt if the query failed.
std::optional<std::string> ask(const ReplicaAccess& replica, const std::string& sql) {
  try {
    http::Client client;
    http::Request request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(replica.http_port) + "/";
    request.headers = {{"X-ClickHouse-User", replica.user}, {"X-ClickHouse-Key", replica.password}};
    request.body = sql;
    request.timeout = kQueryTimeout;
    http::Response response = client.send(request);
    if (response.status != 200) return std::nullopt;
    std::string line = response.body.substr(0, response.body.find('\n'));
    return line;
  } catch (const Error&) {
    return std::nullopt;
  }
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

bool gate_passes(Gate gate, const ReplicaAccess& replica) {
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
