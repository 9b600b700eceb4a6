#include "sim_agent.h"

#include <openssl/pem.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::bench {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kUsagePerReport = 1000;  // as the agent

// The SSL ex_data slot holding each connection's SimAgent (the context's own
// app data belongs to Asio, which keeps its verify callback there).
int agent_slot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* agent = static_cast<SimAgent*>(SSL_get_ex_data(ssl, agent_slot()));
  if (!agent) return 0;
  agent->keep_session(session);
  return 1;  // the agent owns the reference now
}

template <typename T, T* (*Read)(BIO*, T**, pem_password_cb*, void*)>
T* read_pem(const std::string& pem, const char* what) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  T* out = Read(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!out) throw Error::Invalid("invalid_pem", std::string("cannot read the agent's ") + what);
  return out;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SteadyNanos steady_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

FleetShared::FleetShared(asio::io_context& io_, const std::string& server_ca_pem, const std::string& host_,
                         const std::vector<int>& ports)
    : io(io_), host(host_) {
  for (int port : ports) servers.emplace_back(asio::ip::make_address(host_), static_cast<unsigned short>(port));
  beast::error_code ec;
  tls.add_certificate_authority(asio::buffer(server_ca_pem), ec);
  if (ec) throw Error::Invalid("invalid_ca", "cannot load the server CA: " + ec.message());
  tls.set_verify_mode(ssl::verify_peer);
  tls.set_verify_callback(ssl::host_name_verification(host));
  SSL_CTX* ctx = tls.native_handle();
  // Idle agents between long-polls keep no TLS buffers (as the server).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // Sessions go to their agent, never to a shared cache: each agent offers
  // only its own on reconnect.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

struct SimAgent::Connection {
  Connection(FleetShared& shared, const asio::strand<asio::io_context::executor_type>& strand)
      : stream(beast::tcp_stream(strand), shared.tls) {}
  ssl::stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  http::response<http::string_body> response;
};

SimAgent::SimAgent(FleetShared& shared, AgentIdentityPem identity, uint64_t seed, size_t first_server)
    : shared_(shared),
      strand_(asio::make_strand(shared.io)),
      retry_timer_(strand_),
      environment_id_(std::move(identity.environment_id)),
      environment_name_(std::move(identity.environment_name)),
      backoff_(seed) {
  certificate_ = read_pem<X509, PEM_read_bio_X509>(identity.certificate_pem, "certificate");
  key_ = read_pem<EVP_PKEY, PEM_read_bio_PrivateKey>(identity.key_pem, "key");
  usage_from_ = unix_now();
  probe_.server.store(static_cast<int>(first_server % shared_.servers.size()));
}

SimAgent::~SimAgent() {
  conn_.reset();
  if (session_) SSL_SESSION_free(session_);
  X509_free(certificate_);
  EVP_PKEY_free(key_);
}

void SimAgent::start() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->connect(); });
}

void SimAgent::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->retry_timer_.cancel();
    if (self->conn_) {
      beast::error_code ec;
      beast::get_lowest_layer(self->conn_->stream).socket().close(ec);
    }
  });
}

void SimAgent::keep_session(SSL_SESSION* session) {
  // A copy: OpenSSL marks the connection's own session unresumable when the
  // connection dies without close_notify (a killed server), although TLS
  // since 1.1 allows resuming it.
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  SSL_SESSION_free(session);
  if (!copy) return;
  if (session_) SSL_SESSION_free(session_);
  session_ = copy;
}

void SimAgent::connect() {
  if (stopped_) return;
  conn_ = std::make_unique<Connection>(shared_, strand_);
  SSL* ssl = conn_->stream.native_handle();
  SSL_set_ex_data(ssl, agent_slot(), this);
  SSL_use_certificate(ssl, certificate_);
  SSL_use_PrivateKey(ssl, key_);
  if (session_) SSL_set_session(ssl, session_);
  auto& tcp_stream = beast::get_lowest_layer(conn_->stream);
  tcp_stream.expires_after(shared_.connect_timeout);
  tcp_stream.async_connect(shared_.servers[static_cast<size_t>(probe_.server.load())],
                           beast::bind_front_handler(&SimAgent::on_connected, shared_from_this()));
}

void SimAgent::on_connected(boost::system::error_code ec) {
  if (ec) return fail("connect", ec);
  conn_->stream.async_handshake(ssl::stream_base::client,
                                beast::bind_front_handler(&SimAgent::on_handshake, shared_from_this()));
}

void SimAgent::on_handshake(boost::system::error_code ec) {
  if (ec) return fail("handshake", ec);
  probe_.connections.fetch_add(1);
  if (SSL_session_reused(conn_->stream.native_handle())) probe_.resumed.fetch_add(1);
  probe_.connected_at.store(steady_now());
  send_report();
}

model::SyncRequest SimAgent::build_report() {
  model::SyncRequest r;
  r.known_revision = desired_ ? desired_->revision : 0;
  r.seq = ++seq_;
  r.status.applied_revision = desired_ ? desired_->revision : 0;
  r.status.environment_ca_pem = shared_.environment_ca_pem;
  int64_t now = unix_now();
  if (desired_) {
    for (const auto& d : desired_->services) {
      model::ReportedService s;
      s.name = d.name;
      s.state = "READY";
      s.endpoint = shared_.service_endpoint;
      for (int shard = 1; shard <= d.shards; ++shard)
        for (int replica = 1; replica <= d.replicas; ++replica) {
          s.replicas.push_back({shard, replica, "RUNNING", 0});
          if (now > usage_from_)
            usage_pending_.push_back({++usage_seq_, d.name, shard, replica, usage_from_, now,
                                      d.cpu_millis * (now - usage_from_),
                                      d.memory_mib * (now - usage_from_)});
        }
      r.status.services.push_back(std::move(s));
    }
  }
  if (now > usage_from_) usage_from_ = now;
  for (size_t i = 0; i < usage_pending_.size() && i < kUsagePerReport; ++i)
    r.usage.push_back(usage_pending_[i]);
  return r;
}

void SimAgent::send_report() {
  if (stopped_) return;
  auto& req = conn_->request;
  req = {};
  req.method(http::verb::post);
  req.target("/v1/agent/sync");
  req.version(11);
  req.set(http::field::host, shared_.host);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = model::to_json(build_report()).dump();
  req.prepare_payload();
  beast::get_lowest_layer(conn_->stream).expires_after(shared_.request_timeout);
  http::async_write(conn_->stream, req,
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_written(ec); });
}

void SimAgent::on_written(boost::system::error_code ec) {
  if (ec) return fail("write", ec);
  probe_.sent_at.store(steady_now());
  conn_->response = {};
  http::async_read(conn_->stream, conn_->buffer, conn_->response,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->on_answer(ec); });
}

void SimAgent::on_answer(boost::system::error_code ec) {
  if (ec) return fail("read", ec);
  SteadyNanos at = steady_now();
  auto& res = conn_->response;
  if (res.result_int() != 200) return fail("answer", {});
  model::SyncResponse answer;
  try {
    answer = model::parse_sync_response(nlohmann::json::parse(res.body()));
  } catch (const std::exception&) {
    return fail("answer", {});
  }
  probe_.answers.fetch_add(1);
  backoff_.reset();
  std::erase_if(usage_pending_,
                [&](const model::UsageInterval& u) { return u.seq <= answer.usage_acked_seq; });
  if (answer.desired) {
    if (answer.desired->environment_id != environment_id_) return fail("foreign desired state", {});
    desired_ = std::move(*answer.desired);
    probe_.revision_at.store(at);
    probe_.revision.store(desired_->revision);  // after its time: a reader seeing it sees the time
  } else {
    probe_.unchanged_at.store(at);
  }
  if (!res.keep_alive()) {
    beast::error_code ignored;
    beast::get_lowest_layer(conn_->stream).socket().close(ignored);
    conn_.reset();
    return connect();
  }
  send_report();
}

void SimAgent::fail(const char*, boost::system::error_code) {
  if (conn_) {
    beast::error_code ignored;
    beast::get_lowest_layer(conn_->stream).socket().close(ignored);
  }
  // Destroy the stream only after its completion handlers ran out.
  asio::post(strand_, [self = shared_from_this()] {
    self->conn_.reset();
    if (self->stopped_) return;
    self->probe_.failures.fetch_add(1);
    auto delay = self->backoff_.next_delay();
    size_t servers = self->shared_.servers.size();
    if (servers > 1) {
      // As the agent: on to the next server, the first move after half the delay.
      if (self->backoff_.failures() == 1) delay /= 2;
      self->probe_.server.store(static_cast<int>((static_cast<size_t>(self->probe_.server.load()) + 1) % servers));
    }
    self->retry_timer_.expires_after(delay);
    self->retry_timer_.async_wait([self](beast::error_code ec) {
      if (!ec) self->connect();
    });
  });
}

}  // namespace byoc::bench
