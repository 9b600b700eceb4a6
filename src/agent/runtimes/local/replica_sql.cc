#include "agent/runtimes/local/replica_sql.h"

#include <chrono>

#include "base/error.h"
#include "base/http_client.h"

namespace byoc::agent::local {
namespace {
constexpr std::chrono::milliseconds kQueryTimeout{2'000};
}  // namespace

std::optional<std::string> query_replica(const ReplicaAccess& replica, const std::string& sql, std::string* error) {
  try {
    http::Client client;
    http::Request request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(replica.http_port) + "/";
    request.headers = {{"X-ClickHouse-User", replica.user}, {"X-ClickHouse-Key", replica.password}};
    request.body = sql;
    request.timeout = kQueryTimeout;
    http::Response response = client.send(request);
    if (response.status != 200) {
      if (error) *error = std::to_string(response.status) + ": " + response.body.substr(0, 512);
      return std::nullopt;
    }
    return response.body;
  } catch (const Error& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace byoc::agent::local
