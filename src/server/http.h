// The HTTP request/response types handlers see, kept free of Boost so that
// only the listener compiles Beast. A handler answers through a Responder,
// which may be used from any thread, exactly once — which lets long-polls
// answer later without holding a thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "server/principal.h"

namespace byoc::server {

struct RouteSpec;

// A client certificate that passed TLS verification against the agent CA.
struct PeerCertificate {
  std::string common_name;
  std::string serial_hex;
};

// What the dispatcher and the access log learn about a request while it is
// served. Shared by the request and its responder, so a handler on another
// thread fills it before it answers.
struct RequestTrace {
  std::string request_id;  // also sent as X-Request-Id
  std::string token_id;    // the bearer token's (or join token's) id, once verified; never its secret
  // Set by the dispatcher's admission of an API-token route: who asks (once
  // the token is verified, even if the call is then refused) and, once
  // admitted, the organisation addressed ("" for global objects).
  std::optional<Principal> caller;
  std::optional<std::string> organization;
  // Set by handlers that create something: its id, for the audit record.
  std::string created_id;
  // The audit record's parts the dispatcher learns when it matches the
  // route (for a route whose Effect is kChange): the route's action, the path
  // parameters, the agent's certificate name if any.
  const RouteSpec* route = nullptr;  // the router's, which outlives every request
  std::map<std::string, std::string> object;
  std::string agent;
  // Set by handlers that know which environment a call is about (its audit
  // log); otherwise the environment is found by the path's {env}.
  std::string environment_id;
  // Set once the change's own transaction wrote the audit record (audit.h).
  bool audited = false;
  // The store's generation as of this request's arrival, once admission
  // established it (store.h: current_generation()); 0 until then.
  uint64_t generation = 0;
};

struct HttpRequest {
  std::string method;
  std::string target;                         // the request target exactly as sent (signature checks)
  std::string path;                           // without the query string, percent-decoded
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> headers; // names lowercased
  std::string body;
  std::string remote_address;
  std::optional<PeerCertificate> peer;
  std::map<std::string, std::string> params;  // path parameters filled by the router
  std::string route;                          // the matched pattern, e.g. /v1/environments/{env}
  std::shared_ptr<RequestTrace> trace;        // set by the dispatcher; may be null in unit tests

  std::string header(const std::string& lowercase_name) const;
  // Who asks and the organisation addressed, as the dispatcher admitted them
  // (routes with an API-token Access only). Throw 500 if not admitted.
  const Principal& caller() const;
  const std::string& organization() const;
};

struct HttpResponse {
  int status = 200;
  std::string body;  // JSON text
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(int status, const nlohmann::json& body);
};

class Responder {
 public:
  virtual ~Responder() = default;
  // The first call wins; later calls are ignored.
  virtual void send(HttpResponse response) = 0;
};

using Handler = std::function<void(HttpRequest&, std::shared_ptr<Responder>)>;

// Renders an exception (byoc::Error or anything else) as the API's error body.
// Anything but a byoc::Error is a bug: 500 with the request's id in the body
// (and its text only in the log, with that id).
HttpResponse error_response(const std::exception& e, const HttpRequest* request = nullptr);
// The 500 answer for a failure that is not even a std::exception.
HttpResponse internal_error_response(const HttpRequest* request, const std::string& what);

}  // namespace byoc::server
