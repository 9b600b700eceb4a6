// HttpClient: outbound HTTP(S) over libcurl, used by the CLI, the agent and
// tests. One client keeps one connection alive and reuses it (the agent's
// long-poll rides one connection). TLS trusts exactly the CA given (pinning),
// never the system store, unless told to skip verification — which only the
// agent's join does, to read the server's chain and check it against the
// join token's CA hash before sending anything secret.
//
// Not thread-safe: one client per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace byoc::http {

struct TlsOptions {
  std::string ca_pem;           // trusted CA bundle; required unless insecure
  std::string client_cert_pem;  // optional client certificate (mTLS)
  std::string client_key_pem;
  bool insecure_skip_verify = false;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};
  std::string source_address;  // optional local address to bind (allowlist tests)
  // When set and it becomes true, the transfer aborts (kUnavailable) within ~100 ms.
  const std::atomic<bool>* cancel = nullptr;
  // An answer body larger than this ends the transfer as it arrives, before
  // it fills memory (kUnavailable, code "http_answer_too_large"); 0: no bound.
  size_t max_response_bytes = 0;
  // When set, the answer's body is handed over piece by piece as it arrives
  // (a Kubernetes watch streams for minutes) instead of collected in
  // Response::body; returning false ends the transfer (kUnavailable). Never
  // called with an empty piece. The callback bounds what it keeps;
  // max_response_bytes does not apply.
  std::function<bool(std::string_view piece)> on_body;
  // With on_body: called once with the status and headers (names
  // lowercased) of the final answer as soon as its head has arrived (the
  // end of its header block; an interim 1xx head is not told) — before any
  // body, which a quiet watch may not send for minutes — or, should curl
  // show no head end, before the first piece or after the transfer;
  // returning false ends the transfer (kUnavailable).
  //
  // An exception thrown by on_body or on_head ends the transfer and is
  // rethrown by send() as it was thrown, once curl has let go of it.
  std::function<bool(int status, const std::vector<std::pair<std::string, std::string>>& headers)> on_head;
};

struct Response {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string header(const std::string& lowercase_name) const;
};

class Client {
 public:
  explicit Client(TlsOptions tls = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Throws byoc::Error kUnavailable on connection/TLS failures and timeouts.
  Response send(const Request& request);

  // The certificates the server at `url` presents (leaf first), read with
  // verification off. Nothing but the TLS handshake and a GET of `url` is sent.
  std::vector<std::string> peer_certificates(const std::string& url);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byoc::http
