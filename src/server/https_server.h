// HttpsServer: the management plane's one listener — HTTPS only, async
// (Boost.Asio/Beast behind this header), keep-alive, body limit, optional
// client certificates verified against the agent CA. It parses requests and
// hands them to `dispatch` on an I/O thread; dispatch must not block (it posts
// store work elsewhere and answers through the Responder later).
//
// Threading: run() drives `io_threads` threads; stop() may be called from any
// thread (e.g. a signal handler callback) and makes run() return.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "server/http.h"

namespace byoc::server {

struct HttpsServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                  // 0: pick a free one
  std::string cert_chain_pem;    // serving certificate, then its chain
  std::string key_pem;
  std::string client_ca_pem;     // client certificates are optional, verified against this CA
  size_t body_limit = 1 << 20;   // larger bodies get 413
  int io_threads = 2;
  // 80 bytes (name, HMAC and AES keys) protecting TLS session tickets. Kept
  // across restarts, clients resume their sessions after one (cheap
  // handshakes when every agent comes back at once); empty: a random key
  // for this process only.
  std::string session_ticket_key;
  // Called after each completed TLS handshake (any I/O thread): true when
  // the client resumed a session. For metrics.
  std::function<void(bool resumed)> on_handshake;
};

class HttpsServer {
 public:
  using Dispatch = std::function<void(HttpRequest&, std::shared_ptr<Responder>)>;

  // Binds at once (throws byoc::Error if it can't), serves once run() is called.
  HttpsServer(const HttpsServerOptions& options, Dispatch dispatch);
  ~HttpsServer();

  int port() const;
  void run();
  void stop();
  // Calls `fn` on an I/O thread after `delay` (used for long-poll deadlines).
  // The returned function cancels it (fn then never runs); safe from any thread.
  std::function<void()> after(std::chrono::milliseconds delay, std::function<void()> fn);
  // Calls `fn` on an I/O thread when SIGINT or SIGTERM arrives.
  void on_signal(std::function<void(int)> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byoc::server
