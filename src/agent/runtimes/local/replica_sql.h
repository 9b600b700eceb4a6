// One SQL statement sent to one replica of a local service over loopback
// HTTP, as its internal cluster user (the only one the runtime holds a
// password for), with a short timeout. For the rollout gates and for copying
// a service's tables to a replica that joins it. Any thread.
#pragma once

#include <optional>
#include <string>

namespace byoc::agent::local {

struct ReplicaAccess {
  int http_port = 0;
  std::string user;
  std::string password;
  bool replicated = false;
};

// The answer's body, or nullopt if the replica did not answer 200 (then
// `error`, if given, says why: the server's message or the transport's).
std::optional<std::string> query_replica(const ReplicaAccess& replica, const std::string& sql,
                                         std::string* error = nullptr);

}  // namespace byoc::agent::local
