// ApiClient: the CLI's view of the management-plane API (docs/api.md). It
// sends JSON with the bearer token over HTTPS trusting exactly the pinned
// server CA, and turns API errors ({"error":{"code","message","field"}}) into
// byoc::Error so every command reports them the same way.
//
// Not thread-safe (it owns one http::Client and its connection).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/http_client.h"
#include "cli/config.h"
#include "cli/io.h"

namespace byoc::cli {

class ApiClient {
 public:
  // `connection` as resolve_connection() returns it (server without a
  // trailing slash, CA and token present). A `transport` replaces the HTTPS
  // client (tests); the requests it gets are the ones the server would.
  explicit ApiClient(ClientConfig connection, Transport transport = {});

  // `path` starts with '/' and is already escaped (see path_segment). Return
  // the parsed JSON body of a 2xx answer (null when it is empty, as a 204's
  // is); throw byoc::Error otherwise (kUnavailable when the server can't be
  // reached).
  nlohmann::json get(const std::string& path);
  nlohmann::json post(const std::string& path, const nlohmann::json& body);
  nlohmann::json patch(const std::string& path, const nlohmann::json& body);
  nlohmann::json put(const std::string& path, const nlohmann::json& body);
  nlohmann::json del(const std::string& path);
  // GET of a text answer (e.g. an audit checkpoint): its body as it came.
  std::string get_text(const std::string& path);

  const std::string& server() const { return connection_.server; }

 private:
  nlohmann::json call(const std::string& method, const std::string& path, const std::string& body);
  // The body of a 2xx answer; byoc::Error otherwise.
  std::string exchange(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& accept);

  ClientConfig connection_;
  http::Client http_;
  Transport transport_;
};

// Percent-encodes everything but RFC 3986 unreserved characters, so a name
// like "a/b" stays one path segment.
std::string path_segment(std::string_view text);

// The byoc::Error for a non-2xx answer: kind from the status, code/message/
// field from the API's error body when it has one, else a message naming the
// status and the request.
Error error_from_response(int status, const std::string& body, const std::string& what);

}  // namespace byoc::cli
