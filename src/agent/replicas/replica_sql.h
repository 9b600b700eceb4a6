// One SQL statement sent to one replica of a service over HTTP, as its
// internal cluster user (the only one a runtime holds a password for), with
// a short timeout: for the rollout gates, for copying a service's tables to
// a replica that joins it and for draining one that leaves. The local
// runtime's replicas are on loopback; the Kubernetes runtime's at their
// pods' addresses. Any thread.
#pragma once

#include <optional>
#include <string>

namespace byoc::agent::replicas {

struct ReplicaAccess {
  int http_port = 0;
  std::string user;
  std::string password;
  bool replicated = false;
  std::string host = "127.0.0.1";  // a name, an IPv4 address or a bracketed IPv6 one
};

// The answer's body, or nullopt if the replica did not answer 200 (then
// `error`, if given, says why: the HTTP status and ClickHouse's error code —
// never its message, which may quote the statement — or the transport's).
std::optional<std::string> query_replica(const ReplicaAccess& replica, const std::string& sql,
                                         std::string* error = nullptr);

}  // namespace byoc::agent::replicas
