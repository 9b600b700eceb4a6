#include "agent/replicas/replica_sql.h"

#include <cctype>
#include <chrono>

#include "base/error.h"
#include "base/http_client.h"

namespace byoc::agent::replicas {
namespace {
constexpr std::chrono::milliseconds kQueryTimeout{2'000};

// "Code: 57" of an answer "Code: 57, e.displayText() = …"; "no error code" otherwise.
std::string error_code(const std::string& body) {
  if (body.rfind("Code: ", 0) != 0) return "no error code";
  size_t end = 6;
  while (end < body.size() && end < 12 && std::isdigit(static_cast<unsigned char>(body[end]))) ++end;
  return end > 6 ? body.substr(0, end) : "no error code";
}
}  // namespace

std::optional<std::string> query_replica(const ReplicaAccess& replica, const std::string& sql, std::string* error) {
  try {
    http::Client client;
    http::Request request;
    request.method = "POST";
    request.url = "http://" + replica.host + ":" + std::to_string(replica.http_port) + "/";
    request.headers = {{"X-ClickHouse-User", replica.user}, {"X-ClickHouse-Key", replica.password}};
    request.body = sql;
    request.timeout = kQueryTimeout;
    http::Response response = client.send(request);
    if (response.status != 200) {
      // Only ClickHouse's error code: its message may quote the statement,
      // and a table's definition can hold a password (a MySQL engine's, say).
      if (error) *error = "HTTP " + std::to_string(response.status) + ", " + error_code(response.body);
      return std::nullopt;
    }
    return response.body;
  } catch (const Error& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace byoc::agent::replicas
