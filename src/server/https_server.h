// HttpsServer: the management plane's one listener — HTTPS only, async
// (Boost.Asio/Beast behind this header), keep-alive, optional client
// certificates verified against the agent CA. It parses requests and hands
// them to `dispatch` on an I/O thread; dispatch must not block (it posts
// store work elsewhere and answers through the Responder later).
//
// Hardening, in the manner of nginx: every stage of a connection has a
// deadline (TLS handshake, request head, body, keep-alive idle, sending);
// connections that send nothing never delay new ones (see
// connection_table.h for the per-source and global limits); a malformed
// request — bad framing (RFC 9112 §6.1: Transfer-Encoding with
// Content-Length, a last coding other than chunked), oversized head, bad
// target, unsupported version, plain HTTP on the TLS port — is answered
// (400, 408, 413, 414, 417, 431, 501, 505 with the JSON error body) and the
// connection closed after a short lingering read, so nothing a client sent
// after it is ever read as a request.
//
// Threading: run() drives `io_threads` threads; stop() may be called from any
// thread (e.g. a signal handler callback) and makes run() return.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "server/connection_table.h"
#include "server/http.h"

namespace byoc::server {

class SessionTicketKeys;

struct ConnectionTimeouts {
  // Accepted → TLS handshake complete. Agents give up a handshake after 10 s.
  std::chrono::milliseconds handshake{10'000};
  // First byte of a request → its whole head (nginx client_header_timeout).
  std::chrono::milliseconds header{10'000};
  // Between two reads of a body (nginx client_body_timeout); the whole body
  // must also come at `min_body_rate` on average after this much time.
  std::chrono::milliseconds body{10'000};
  // After an answer, until the next request begins (keep-alive).
  std::chrono::milliseconds keepalive{120'000};
  // Writing an answer.
  std::chrono::milliseconds send{30'000};
};

struct HttpsServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                  // 0: pick a free one
  std::string cert_chain_pem;    // serving certificate, then its chain
  std::string key_pem;
  std::string client_ca_pem;     // client certificates are optional, verified against this CA
  size_t body_limit = 1 << 20;   // larger bodies get 413
  size_t header_limit = 8 << 10; // larger heads get 431 (414 when the request line alone is)
  size_t min_body_rate = 16 << 10;  // bytes per second
  int io_threads = 2;
  ConnectionTimeouts timeouts;
  ConnectionLimits limits;
  // The keys protecting TLS session tickets (session_tickets.h): kept
  // across restarts and shared by the plane's servers, clients resume their
  // sessions after a restart or a failover (cheap handshakes when every
  // agent comes back at once); null: a random key for this process only.
  // Must outlive the server.
  SessionTicketKeys* ticket_keys = nullptr;
  // Called after each completed TLS handshake (any I/O thread): true when
  // the client resumed a session. For metrics.
  std::function<void(bool resumed)> on_handshake;
  // Called when the server closes a connection early (any I/O thread), with
  // one of: over_limit, evicted, handshake_timeout, header_timeout,
  // body_timeout, send_timeout, malformed, not_tls.
  std::function<void(const char* reason)> on_close;
  // Called for each request the listener answered itself (malformed, too
  // large, timed out), with the client's address and the status.
  std::function<void(const std::string& source, int status)> on_rejected;
};

class HttpsServer {
 public:
  using Dispatch = std::function<void(HttpRequest&, std::shared_ptr<Responder>)>;

  // Binds at once (throws byoc::Error if it can't), serves once run() is
  // called. `clock` times bodies against their promised rate.
  HttpsServer(const HttpsServerOptions& options, const Clock& clock, Dispatch dispatch);
  ~HttpsServer();

  int port() const;
  void run();
  void stop();
  // Calls `fn` on an I/O thread when SIGINT or SIGTERM arrives.
  void on_signal(std::function<void(int)> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byoc::server
