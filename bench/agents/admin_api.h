// The load tool's side of the management plane's public API: calls with the
// admin token over pinned HTTPS (byoc::http::Client, the CLI's and agent's
// client), and a parallel loop that gives each worker thread its own
// keep-alive client. Every call must succeed: a failure ends the bench.
#pragma once

#include <functional>
#include <string>

#include "base/http_client.h"

namespace byoc::bench {

struct ApiTarget {
  std::string url;     // https://HOST:PORT
  std::string token;   // admin bearer token
  std::string ca_pem;  // the server's CA
};

// Sends one request; throws byoc::Error unless the answer is 2xx. Returns the body.
std::string api_call(http::Client& client, const ApiTarget& api, const std::string& method,
                     const std::string& path, const std::string& body = "");

// Runs fn(i, client) for every i in [0, n) on `threads` threads, each with
// its own client; rethrows the first failure after all threads stop.
void parallel_for(size_t n, int threads, const ApiTarget& api,
                  const std::function<void(size_t, http::Client&)>& fn);

}  // namespace byoc::bench
