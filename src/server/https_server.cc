#include "server/https_server.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <nlohmann/json.hpp>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/log.h"

namespace byoc::server {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(120);

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void parse_target(std::string_view target, HttpRequest& req) {
  auto q = target.find('?');
  req.path = percent_decode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    if (!key.empty()) req.query[key] = value;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

std::optional<PeerCertificate> verified_peer(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  PeerCertificate peer;
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  peer.common_name = cn;
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (bn) {
    char* hex = BN_bn2hex(bn);
    peer.serial_hex = hex;
    for (auto& ch : peer.serial_hex) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    OPENSSL_free(hex);
    BN_free(bn);
  }
  return peer;
}

class Session;

class SessionResponder final : public Responder {
 public:
  SessionResponder(std::shared_ptr<Session> session, unsigned version, bool keep_alive)
      : session_(std::move(session)), version_(version), keep_alive_(keep_alive) {}
  void send(HttpResponse response) override;

 private:
  std::shared_ptr<Session> session_;
  unsigned version_;
  bool keep_alive_;
  std::atomic<bool> sent_{false};
};

// TlsSocket: a server-side TLS connection run directly on the socket's
// descriptor (OpenSSL on a non-blocking fd, Asio only for readiness), as an
// Asio AsyncStream for Beast. Asio's ssl::stream keeps two 17 KB staging
// vectors and a 34 KB BIO pair per connection whatever it is doing; here an
// idle connection (an agent between long-polls) holds only OpenSSL's state,
// whose record buffers SSL_MODE_RELEASE_BUFFERS frees between messages.
// All operations run on the socket's strand, one read and one write at most.
class TlsSocket {
 public:
  using executor_type = tcp::socket::executor_type;

  TlsSocket(tcp::socket socket, SSL_CTX* ctx) : socket_(std::move(socket)), ssl_(SSL_new(ctx)) {
    if (!ssl_) throw Error::Internal("SSL_new failed");
    beast::error_code ec;
    socket_.non_blocking(true, ec);
    SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle()));
    SSL_set_accept_state(ssl_);
  }
  ~TlsSocket() { SSL_free(ssl_); }
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }
  SSL* native_handle() { return ssl_; }

  template <typename Handler>
  auto async_handshake(Handler&& handler) {
    return run(std::forward<Handler>(handler), [this](size_t&) { return SSL_do_handshake(ssl_) == 1; });
  }

  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    asio::mutable_buffer first;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
      if (it->size() > 0) {
        first = *it;
        break;
      }
    return run(std::forward<Handler>(handler), [this, first](size_t& n) {
      return first.size() == 0 || SSL_read_ex(ssl_, first.data(), first.size(), &n) == 1;
    });
  }

  // Coalesces the sequence (an HTTP header and body) into one record when
  // it fits, so a response is one TLS record and one send.
  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    pending_.clear();
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      asio::const_buffer b = *it;
      size_t take = std::min(b.size(), kMaxWrite - pending_.size());
      pending_.append(static_cast<const char*>(b.data()), take);
      if (pending_.size() == kMaxWrite) break;
    }
    return run(std::forward<Handler>(handler), [this](size_t& n) {
      if (pending_.empty()) return true;
      if (SSL_write_ex(ssl_, pending_.data(), pending_.size(), &n) != 1) return false;
      std::string().swap(pending_);  // written: don't keep the copy
      return true;
    });
  }

  // Sends close_notify if it can at once, then closes the socket.
  void shutdown_and_close() {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    beast::error_code ec;
    socket_.close(ec);
  }

 private:
  static constexpr size_t kMaxWrite = 16 * 1024;

  // Runs `attempt` until it succeeds, waiting for the readiness OpenSSL asks
  // for in between; completes with the bytes it moved.
  template <typename Handler, typename Attempt>
  auto run(Handler&& handler, Attempt attempt) {
    return asio::async_compose<Handler, void(beast::error_code, size_t)>(
        [this, attempt, started = false](auto& self, beast::error_code ec = {}) mutable {
          if (started && ec) return self.complete(ec, 0);
          started = true;
          size_t n = 0;
          ERR_clear_error();
          errno = 0;
          if (attempt(n)) return self.complete({}, n);
          int rc = SSL_get_error(ssl_, 0);
          switch (rc) {
            case SSL_ERROR_WANT_READ:
              return socket_.async_wait(tcp::socket::wait_read, std::move(self));
            case SSL_ERROR_WANT_WRITE:
              return socket_.async_wait(tcp::socket::wait_write, std::move(self));
            case SSL_ERROR_ZERO_RETURN:
              return self.complete(asio::error::eof, 0);
            case SSL_ERROR_SYSCALL:
              return self.complete(errno == 0 ? beast::error_code(asio::error::eof)
                                              : beast::error_code(asio::error::connection_reset),
                                   0);
            default:
              return self.complete(asio::error::connection_aborted, 0);
          }
        },
        handler, socket_);
  }

  tcp::socket socket_;
  SSL* ssl_;
  std::string pending_;
};

// Bounds the TLS handshakes in progress. Handshakes are CPU work: thousands at
// once (every agent reconnecting after a restart) would each take so long
// that clients time out and retry, and no one gets through. Connections
// beyond the bound wait in the kernel's accept backlog and are served in order.
struct HandshakeGate {
  std::function<void()> done;  // called once per connection whose handshake ended
};

// One client connection: handshake, then requests one at a time. While a
// handler holds a request (a long-poll) nothing is pending on the socket and
// no deadline runs; the request buffer is given back meanwhile.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, SSL_CTX* ctx, const HttpsServer::Dispatch& dispatch, size_t body_limit,
          HandshakeGate& gate, const std::function<void(bool)>& on_handshake)
      : stream_(std::move(socket), ctx), deadline_(stream_.get_executor()), dispatch_(dispatch),
        body_limit_(body_limit), gate_(gate), on_handshake_(on_handshake) {}

  void start() {
    // Agents give up a handshake after 10 s; holding the socket longer only
    // keeps a descriptor from the ones that retry.
    arm(std::chrono::seconds(10));
    stream_.async_handshake(
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_handshake(ec); });
  }

  // Called by the responder from any thread.
  void write(bhttp::response<bhttp::string_body> response, bool keep_alive) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), response = std::move(response),
                                            keep_alive]() mutable { self->do_write(std::move(response), keep_alive); });
  }

 private:
  // A deadline closes the socket, which fails whatever is pending.
  void arm(std::chrono::seconds after) {
    deadline_.expires_after(after);
    deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        beast::error_code ignored;
        self->stream_.socket().close(ignored);
      }
    });
  }

  void on_handshake(beast::error_code ec) {
    gate_.done();
    if (ec) return;
    if (on_handshake_) on_handshake_(SSL_session_reused(stream_.native_handle()) == 1);
    remote_ = stream_.socket().remote_endpoint(ec).address().to_string();
    peer_ = verified_peer(stream_.native_handle());
    read();
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(body_limit_);
    arm(kIdleTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      reply_error(413, "too_large", "request body exceeds 1 MiB");
      return;
    }
    if (ec) return;  // closed, timed out or malformed: drop the connection
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    parse_target(msg.target(), req);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      req.headers[name] = std::string(field.value());
    }
    req.body = std::move(msg.body());
    req.remote_address = remote_;
    req.peer = peer_;
    bool keep_alive = msg.keep_alive();
    unsigned version = msg.version();
    parser_.reset();
    // Nothing is pipelined behind a request here (clients wait for answers):
    // an empty buffer is given back, which matters for thousands of held polls.
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    // No deadline while a handler (e.g. a long-poll) owns the request.
    deadline_.cancel();
    auto responder = std::make_shared<SessionResponder>(shared_from_this(), version, keep_alive);
    try {
      dispatch_(req, responder);
    } catch (const std::exception& e) {
      responder->send(error_response(e));
    }
  }

  void reply_error(int status, const char* code, const char* message) {
    HttpResponse r = HttpResponse::json(
        status, nlohmann::json{{"error", {{"code", code}, {"message", message}, {"field", ""}}}});
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = r.body;
    res.prepare_payload();
    do_write(std::move(res), false);
  }

  void do_write(bhttp::response<bhttp::string_body> response, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(std::move(response));
    arm(std::chrono::seconds(30));
    auto done = [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
      if (ec) return;
      if (keep_alive) {
        self->read();
      } else {
        self->deadline_.cancel();
        self->stream_.shutdown_and_close();
      }
    };
    bhttp::async_write(stream_, *res, std::move(done));
  }

  TlsSocket stream_;
  asio::steady_timer deadline_;
  const HttpsServer::Dispatch& dispatch_;
  size_t body_limit_;
  HandshakeGate& gate_;
  const std::function<void(bool)>& on_handshake_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  std::optional<PeerCertificate> peer_;
};

void SessionResponder::send(HttpResponse response) {
  if (sent_.exchange(true)) return;
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), version_};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  for (const auto& [name, value] : response.headers) res.set(name, value);
  res.keep_alive(keep_alive_);
  res.body() = std::move(response.body);
  res.prepare_payload();
  session_->write(std::move(res), keep_alive_);
}

}  // namespace

struct HttpsServer::Impl {
  static constexpr int kMaxHandshakes = 128;

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, threads); ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  explicit Impl(const HttpsServerOptions& o) : options(o) {}

  HttpsServerOptions options;
  Dispatch dispatch;
  // One context per I/O thread, each run by its thread alone (as nginx runs
  // a process per worker): a connection stays on the context it was given,
  // so its handlers never hop threads. The first also holds the acceptor,
  // the signals and the timers of after().
  std::vector<std::unique_ptr<asio::io_context>> contexts = make_contexts(options.io_threads);
  asio::io_context& ioc = *contexts.front();
  size_t next_context = 0;  // round robin over accepted connections; accept handler only
  std::atomic<size_t> next_timer_context{0};
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc};
  asio::steady_timer accept_retry{ioc};
  int port = 0;
  HandshakeGate gate{[this] { handshake_ended(); }};
  std::mutex accept_mutex;
  int handshaking = 0;      // guarded by accept_mutex
  bool accept_paused = false;

  void accept() {
    asio::io_context& target = *contexts[next_context++ % contexts.size()];
    acceptor.async_accept(target.get_executor(), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors (or memory): the connection stays in the
        // backlog. Try again shortly rather than spin on the error.
        spdlog::warn("accept failed: {}", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](beast::error_code e) {
          if (!e) accept();
        });
        return;
      }
      // Asio opens sockets without CLOEXEC; children must never inherit them.
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      {
        std::lock_guard lock(accept_mutex);
        ++handshaking;
      }
      auto executor = socket.get_executor();
      auto session =
          std::make_shared<Session>(std::move(socket), ctx.native_handle(), dispatch, options.body_limit, gate,
                                                options.on_handshake);
      asio::post(executor, [session] { session->start(); });  // on the connection's own thread
      {
        std::lock_guard lock(accept_mutex);
        if (handshaking >= kMaxHandshakes) {
          accept_paused = true;
          return;
        }
      }
      accept();
    });
  }

  void handshake_ended() {
    {
      std::lock_guard lock(accept_mutex);
      --handshaking;
      if (!accept_paused || handshaking >= kMaxHandshakes) return;
      accept_paused = false;
    }
    asio::post(ioc, [this] {
      if (acceptor.is_open()) accept();
    });
  }
};

HttpsServer::HttpsServer(const HttpsServerOptions& options, Dispatch dispatch) : impl_(std::make_unique<Impl>(options)) {
  // OpenSSL writes to the descriptor with write(): a peer gone mid-answer
  // must be an error on that connection, not SIGPIPE for the process.
  std::signal(SIGPIPE, SIG_IGN);
  impl_->dispatch = std::move(dispatch);
  auto& ctx = impl_->ctx;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  // Idle keep-alive connections (thousands of agents between syncs) don't
  // keep their TLS read/write buffers.
  SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  if (!options.session_ticket_key.empty()) {
    auto* key = const_cast<char*>(options.session_ticket_key.data());
    if (options.session_ticket_key.size() != 80 || SSL_CTX_set_tlsext_ticket_keys(ctx.native_handle(), key, 80) != 1)
      throw Error::Invalid("invalid_tls", "the session ticket key must be 80 bytes");
  }
  beast::error_code ec;
  ctx.use_certificate_chain(asio::buffer(options.cert_chain_pem), ec);
  if (!ec) ctx.use_private_key(asio::buffer(options.key_pem), ssl::context::pem, ec);
  if (ec) throw Error::Invalid("invalid_tls", "cannot load the serving certificate or key: " + ec.message());
  if (!options.client_ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(options.client_ca_pem), ec);
    if (ec) throw Error::Invalid("invalid_tls", "cannot load the client CA: " + ec.message());
    // Ask for a client certificate but don't demand one: only agent routes need it.
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback([](bool preverified, ssl::verify_context&) { return preverified; });
    SSL_CTX_set_session_id_context(ctx.native_handle(), reinterpret_cast<const unsigned char*>("byoc"), 4);
  }

  auto address = asio::ip::make_address(options.host, ec);
  if (ec) throw Error::Invalid("invalid_listen", "not an IP address: " + options.host, "listen");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error::Unavailable("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                             ec.message());
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept();
}

HttpsServer::~HttpsServer() = default;

int HttpsServer::port() const { return impl_->port; }

void HttpsServer::run() {
  // Contexts with nothing to do yet keep running until stop().
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep;
  for (auto& c : impl_->contexts) keep.push_back(asio::make_work_guard(*c));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->contexts.size(); ++i)
    threads.emplace_back([this, i] { impl_->contexts[i]->run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void HttpsServer::stop() {
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& c : impl_->contexts) c->stop();
  });
}

std::function<void()> HttpsServer::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  // Spread over the contexts: thousands of long-poll deadlines are not one thread's work.
  auto& context = *impl_->contexts[impl_->next_timer_context++ % impl_->contexts.size()];
  auto timer = std::make_shared<asio::steady_timer>(context, delay);
  timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
    if (!ec) fn();
  });
  std::weak_ptr<asio::steady_timer> weak = timer;
  return [weak] {
    if (auto t = weak.lock()) asio::post(t->get_executor(), [t] { t->cancel(); });
  };
}

void HttpsServer::on_signal(std::function<void(int)> fn) {
  impl_->signals.add(SIGINT);
  impl_->signals.add(SIGTERM);
  impl_->signals.async_wait([fn = std::move(fn)](beast::error_code ec, int signo) {
    if (!ec) fn(signo);
  });
}

}  // namespace byoc::server
