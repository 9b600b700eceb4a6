// SimAgent: one simulated `byoc agent` of an `external` environment, for the
// load tool. It speaks the agent's protocol (model::SyncRequest /
// SyncResponse) over its own keep-alive mTLS connection with its own client
// certificate, long-polls POST /v1/agent/sync like agent::Agent::sync_loop
// (report, accept a newer desired state, report it applied, poll again) and
// reconnects after failures with the agent's own RetryBackoff — to the next
// server of the plane when there are several, the first such move after half
// the delay, as the agent does. Unlike the
// real agent it is event-driven (Boost.Asio), so one process runs thousands;
// it runs nothing: every desired service is reported READY at once, with one
// usage interval per report.
//
// TLS sessions are resumed on reconnect (the session from the last
// connection is offered again); whether the server accepted it is counted.
//
// Threading: all of an agent's work runs on its own strand; the counters in
// AgentProbe are atomics the load tool reads from any thread.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/sync_client.h"
#include "model/protocol.h"

namespace byoc::bench {

using SteadyNanos = int64_t;  // std::chrono::steady_clock, nanoseconds since its epoch
SteadyNanos steady_now();

// What the load tool observes of one agent; written by the agent's strand.
struct AgentProbe {
  std::atomic<int64_t> revision{-1};         // newest desired revision received
  std::atomic<SteadyNanos> revision_at{0};   // when it arrived
  std::atomic<SteadyNanos> connected_at{0};  // last completed TLS handshake
  std::atomic<SteadyNanos> sent_at{0};       // last sync request fully written
  std::atomic<SteadyNanos> unchanged_at{0};  // last "nothing new" answer (the server's hold ran out)
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> resumed{0};   // connections that resumed a TLS session
  std::atomic<int64_t> failures{0};  // failed connects, handshakes or syncs
  std::atomic<int64_t> answers{0};
  std::atomic<int> server{0};  // index (FleetShared::servers) of the server it dials
};

struct AgentIdentityPem {
  std::string environment_id;
  std::string environment_name;
  std::string key_pem;
  std::string certificate_pem;
};

// Shared by all agents: the TLS context (server CA pinned, no certificate of
// its own — each connection carries its agent's), the servers' addresses
// (one host, a port each), and what every report holds in common.
struct FleetShared {
  FleetShared(boost::asio::io_context& io, const std::string& server_ca_pem, const std::string& host,
              const std::vector<int>& ports);
  boost::asio::io_context& io;
  boost::asio::ssl::context tls{boost::asio::ssl::context::tls_client};
  std::vector<boost::asio::ip::tcp::endpoint> servers;
  std::string host;
  std::string environment_ca_pem;  // reported as each environment's CA (public)
  std::string service_endpoint = "https://127.0.0.1:9440";
  std::chrono::milliseconds request_timeout{75'000};  // as the agent: the server holds ~30 s
  std::chrono::milliseconds connect_timeout{10'000};
};

class SimAgent : public std::enable_shared_from_this<SimAgent> {
 public:
  // Dials servers[first_server] first.
  SimAgent(FleetShared& shared, AgentIdentityPem identity, uint64_t seed, size_t first_server = 0);
  ~SimAgent();

  void start();
  void stop();
  const std::string& environment_id() const { return environment_id_; }
  const std::string& environment_name() const { return environment_name_; }
  AgentProbe& probe() { return probe_; }
  // Called by OpenSSL (client session cache callback) when a session arrives.
  void keep_session(SSL_SESSION* session);

 private:
  struct Connection;
  void connect();
  void on_connected(boost::system::error_code ec);
  void on_handshake(boost::system::error_code ec);
  void send_report();
  void on_written(boost::system::error_code ec);
  void on_answer(boost::system::error_code ec);
  void fail(const char* what, boost::system::error_code ec);
  model::SyncRequest build_report();

  FleetShared& shared_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer retry_timer_;
  std::string environment_id_;
  std::string environment_name_;
  X509* certificate_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  SSL_SESSION* session_ = nullptr;  // offered on the next connection
  std::unique_ptr<Connection> conn_;
  agent::RetryBackoff backoff_;
  AgentProbe probe_;
  bool stopped_ = false;
  // Protocol state, as the real agent keeps it.
  std::optional<model::DesiredState> desired_;
  int64_t seq_ = 0;
  int64_t usage_seq_ = 0;
  int64_t usage_from_ = 0;  // start of the next usage interval (unix seconds)
  std::vector<model::UsageInterval> usage_pending_;
};

}  // namespace byoc::bench
