#include "server/https_server.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/tcp_listen.h"
#include "base/log.h"
#include "server/request_head.h"
#include "server/request_target.h"
#include "server/tls_context.h"
#include "server/tls_socket.h"

namespace byoc::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// After a final answer the server reads (and drops) what the client still
// sends for this long, so that closing with unread data (which resets the
// connection) doesn't destroy the answer before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

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

std::string error_body(const std::string& code, const std::string& message, const std::string& field) {
  return HttpResponse::json(0, {{"error", {{"code", code}, {"message", message}, {"field", field}}}}).body;
}

struct Rejection {
  int status = 400;
  std::string code = "malformed_request";
  std::string message = "the request is not valid HTTP/1.1";
  std::string field;
};

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

// What a session shares with the listener.
struct Shared {
  const HttpsServer::Dispatch& dispatch;
  const HttpsServerOptions& options;
  ConnectionTable& table;
  const Clock& clock;
};

// One client connection: wait for its ClientHello, a handshake slot, the
// handshake, then requests one at a time. While a handler holds a request
// (a long-poll) nothing is pending on the socket and no deadline runs; the
// request buffer is given back meanwhile. All handlers of a session run on
// its own io_context, which one thread runs.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, SSL_CTX* ctx, const Shared& shared)
      : stream_(std::move(socket), ctx), deadline_(stream_.get_executor()), shared_(shared) {}
  ~Session() { shared_.table.release(entry_); }

  // On the acceptor's thread, so that admission order is accept order and a
  // source over its pending limit loses its oldest connections first.
  void admit() {
    beast::error_code ec;
    remote_ = stream_.socket().remote_endpoint(ec).address().to_string();
    if (ec) return;
    entry_ = shared_.table.admit(remote_, [weak = weak_from_this()] {
      if (auto self = weak.lock())
        asio::post(self->stream_.get_executor(), [self] { self->close_now("evicted"); });
    });
    refused_ = !entry_;
  }

  // On the connection's own thread.
  void start() {
    if (closed_) return;
    if (remote_.empty()) return close_now(nullptr);
    if (refused_) return close_now("over_limit");
    arm(shared_.options.timeouts.handshake, Stage::kHandshake);
    wait_for_hello();
  }

  // Called by the responder from any thread.
  void write(bhttp::response<bhttp::string_body> response, bool keep_alive) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), response = std::move(response),
                                            keep_alive]() mutable { self->do_write(std::move(response), keep_alive); });
  }

 private:
  enum class Stage { kHandshake, kIdle, kHeader, kBody, kSend, kLinger };

  static const char* timeout_reason(Stage stage) {
    switch (stage) {
      case Stage::kHandshake: return "handshake_timeout";
      case Stage::kHeader: return "header_timeout";
      case Stage::kBody: return "body_timeout";
      case Stage::kSend: return "send_timeout";
      default: return nullptr;  // keep-alive idle and lingering end normally
    }
  }

  // One deadline per stage. On a head or body it cancels the pending read,
  // which then answers 408; elsewhere it closes the socket.
  void arm(std::chrono::milliseconds after, Stage stage) {
    stage_ = stage;
    timed_out_ = false;
    uint64_t generation = ++deadline_generation_;
    deadline_.expires_after(after);
    deadline_.async_wait([weak = weak_from_this(), generation](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || generation != self->deadline_generation_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      if (self->stage_ == Stage::kHeader || self->stage_ == Stage::kBody) {
        self->stream_.socket().cancel(ignored);
      } else {
        self->close_now(timeout_reason(self->stage_));
      }
    });
  }

  void disarm() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  void close_now(const char* reason) {
    if (closed_) return;
    closed_ = true;
    disarm();
    if (hello_poll_) hello_poll_->cancel();
    if (reason && shared_.options.on_close) shared_.options.on_close(reason);
    beast::error_code ignored;
    stream_.socket().close(ignored);
    shared_.table.release(entry_);
  }

  void wait_for_hello() {
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](beast::error_code ec) { self->on_hello(ec); });
  }

  void on_hello(beast::error_code ec) {
    if (ec || closed_) return;
    // The whole first record (the ClientHello) must be here before the
    // connection may take a handshake slot: one that sends a byte and stalls
    // stays pending (evictable, on the handshake deadline) and holds nothing.
    unsigned char record[kMaxHelloRecord];
    ssize_t n = ::recv(stream_.socket().native_handle(), record, sizeof record, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return wait_for_hello();
    if (n <= 0) return close_now(nullptr);
    if (record[0] != 0x16) return reply_plain();  // not a TLS handshake record: likely plain HTTP
    if (n < 5) return wait_for_more_hello(n);
    size_t length = (size_t{record[3]} << 8) | record[4];
    if (record[1] != 0x03 || 5 + length > sizeof record) return close_now("malformed");
    if (static_cast<size_t>(n) < 5 + length) return wait_for_more_hello(n);
    hello_poll_.reset();
    shared_.table.set_pending(entry_, false);
    shared_.table.request_handshake(entry_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) asio::post(self->stream_.get_executor(), [self] { self->handshake(); });
    });
  }

  // The socket stays readable while a partial record sits in it, so waiting
  // for readiness again would spin: poll on a timer instead, backing off
  // while nothing new arrives (a split ClientHello's rest comes within a
  // round trip; a stalled one costs a few wake-ups a second until its
  // handshake deadline).
  void wait_for_more_hello(ssize_t seen) {
    if (!hello_poll_) hello_poll_ = std::make_unique<asio::steady_timer>(stream_.get_executor());
    hello_backoff_ = seen > hello_seen_ ? kHelloPollFirst : std::min(hello_backoff_ * 2, kHelloPollMax);
    hello_seen_ = seen;
    hello_poll_->expires_after(hello_backoff_);
    hello_poll_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->closed_) self->on_hello({});
    });
  }

  void handshake() {
    if (closed_) return shared_.table.handshake_done(entry_);
    stream_.async_handshake([self = shared_from_this()](beast::error_code ec, size_t) { self->on_handshake(ec); });
  }

  void on_handshake(beast::error_code ec) {
    shared_.table.handshake_done(entry_);
    if (ec || closed_) return close_now(nullptr);
    if (shared_.options.on_handshake)
      shared_.options.on_handshake(SSL_session_reused(stream_.native_handle()) == 1);
    peer_ = verified_peer(stream_.native_handle());
    read_request(true);
  }

  void read_request(bool first) {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.header_limit));
    parser_->body_limit(shared_.options.body_limit);
    if (first || buffer_.size() > 0 || SSL_pending(stream_.native_handle()) > 0) return read_head();
    // Idle until the next request's first bytes; then the head has its own deadline.
    arm(shared_.options.timeouts.keepalive, Stage::kIdle);
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      self->read_head();
    });
  }

  void read_head() {
    shared_.table.set_pending(entry_, true);
    arm(shared_.options.timeouts.header, Stage::kHeader);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) { self->on_head(ec); });
  }

  // Why a read failed, as the answer to give; nullopt when the client just left.
  std::optional<Rejection> read_failure(beast::error_code ec) {
    if (timed_out_) return Rejection{408, "request_timeout", "the request did not arrive in time", ""};
    if (ec == bhttp::error::body_limit)
      return Rejection{413, "too_large", "the request body exceeds the limit", ""};
    std::string_view seen(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    if (ec == bhttp::error::header_limit) {
      // Beast has taken the request line out of the buffer once it parsed it.
      bool line_parsed = parser_ && !parser_->get().target().empty();
      if (!line_parsed && seen.find('\n') == std::string_view::npos)
        return Rejection{414, "uri_too_long", "the request line exceeds the limit", "path"};
      return Rejection{431, "headers_too_large", "the request head exceeds the limit", ""};
    }
    // A client that leaves between requests (Beast's end_of_stream) or mid-way
    // has nobody left to answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
        ec == asio::error::connection_reset ||
        ec == asio::error::connection_aborted || ec == asio::error::operation_aborted ||
        ec == asio::error::broken_pipe)
      return std::nullopt;
    if (ec == bhttp::error::bad_content_length || ec == bhttp::error::multiple_content_length)
      return Rejection{400, "invalid_content_length", "Content-Length must be one decimal number", "Content-Length"};
    if (ec == bhttp::error::bad_transfer_encoding)
      return Rejection{400, "invalid_transfer_encoding", "the last transfer coding must be chunked",
                       "Transfer-Encoding"};
    if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension)
      return Rejection{400, "invalid_chunk", "the chunked body is malformed", ""};
    if (ec == bhttp::error::bad_version) {
      // Beast knows HTTP/1.x only: a well-formed other version is 505.
      std::string_view line = seen.substr(0, seen.find_first_of("\r\n"));
      auto at = line.rfind(" HTTP/");
      if (at != std::string_view::npos && line.size() == at + 9 && std::isdigit(static_cast<unsigned char>(line[at + 6])) &&
          line[at + 7] == '.' && std::isdigit(static_cast<unsigned char>(line[at + 8])) && line[at + 6] != '1')
        return Rejection{505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served", ""};
      return Rejection{400, "malformed_request", "the request line has no valid HTTP version", ""};
    }
    return Rejection{};
  }

  void fail_read(beast::error_code ec) {
    shared_.table.set_pending(entry_, false);
    auto rejection = read_failure(ec);
    if (!rejection) return close_now(timed_out_ ? timeout_reason(stage_) : nullptr);
    const char* reason = timed_out_ ? timeout_reason(stage_) : "malformed";
    reject(*rejection, reason);
  }

  void on_head(beast::error_code ec) {
    if (closed_) return;
    if (ec) return fail_read(ec);
    shared_.table.set_pending(entry_, false);
    auto& msg = parser_->get();
    RequestHead head;
    head.version = msg.version();
    for (const auto& field : msg) head.fields.push_back({field.name_string(), field.value()});
    if (auto rejection = check_request_head(head))
      return reject({rejection->status, rejection->code, rejection->message, rejection->field}, "malformed");
    try {
      target_ = parse_request_target(msg.target());
    } catch (const Error& e) {
      return reject({e.http_status(), e.code(), e.what(), e.field()}, "malformed");
    }
    if (parser_->is_done()) return finish_request();
    body_started_ = shared_.clock.monotonic_time();
    if (expects_continue(head)) return send_continue();
    read_body();
  }

  void send_continue() {
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    arm(shared_.options.timeouts.send, Stage::kSend);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || self->closed_) return self->close_now(nullptr);
      self->read_body();
    });
  }

  // The body comes in reads, each within the body timeout, and all of it
  // at the minimum rate once the first timeout's worth of time has passed.
  std::chrono::milliseconds body_time_left() const {
    const auto& o = shared_.options;
    uint64_t promised = parser_->content_length().value_or(o.body_limit);
    auto allowed = o.timeouts.body + std::chrono::milliseconds(promised * 1000 / std::max<size_t>(1, o.min_body_rate));
    auto used = std::chrono::duration_cast<std::chrono::milliseconds>(shared_.clock.monotonic_time() - body_started_);
    return std::max(std::chrono::milliseconds(0), std::min(o.timeouts.body, allowed - used));
  }

  void read_body() {
    arm(body_time_left(), Stage::kBody);
    bhttp::async_read_some(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->fail_read(ec);
      if (self->parser_->is_done()) return self->finish_request();
      self->read_body();
    });
  }

  void finish_request() {
    disarm();
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.path = std::move(target_.path);
    req.query = std::move(target_.query);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      auto [it, fresh] = req.headers.emplace(std::move(name), std::string(field.value()));
      if (!fresh) it->second += ", " + std::string(field.value());  // a list header sent twice
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
    auto responder = std::make_shared<SessionResponder>(shared_from_this(), version, keep_alive);
    try {
      shared_.dispatch(req, responder);
    } catch (const std::exception& e) {
      responder->send(error_response(e, &req));
    } catch (...) {
      responder->send(internal_error_response(&req, "a non-standard exception"));
    }
  }

  // Answers a request the listener refuses, then closes.
  void reject(const Rejection& r, const char* reason) {
    if (shared_.options.on_close) shared_.options.on_close(reason);
    if (shared_.options.on_rejected) shared_.options.on_rejected(remote_, r.status);
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::cache_control, "no-store");
    res.keep_alive(false);
    res.body() = error_body(r.code, r.message, r.field);
    res.prepare_payload();
    do_write(std::move(res), false);
  }

  // Plain HTTP (or anything but TLS) on this port: one answer in the clear.
  void reply_plain() {
    shared_.table.set_pending(entry_, false);
    if (shared_.options.on_close) shared_.options.on_close("not_tls");
    if (shared_.options.on_rejected) shared_.options.on_rejected(remote_, 400);
    std::string body = error_body("tls_required", "this server speaks HTTPS only", "");
    auto text = std::make_shared<std::string>("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                                              "Connection: close\r\nContent-Length: " +
                                              std::to_string(body.size()) + "\r\n\r\n" + body);
    arm(shared_.options.timeouts.send, Stage::kSend);
    asio::async_write(stream_.socket(), asio::buffer(*text),
                      [self = shared_from_this(), text](beast::error_code ec, size_t) {
                        if (ec) return self->close_now(nullptr);
                        self->linger(false);
                      });
  }

  void do_write(bhttp::response<bhttp::string_body> response, bool keep_alive) {
    if (closed_) return;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(std::move(response));
    arm(shared_.options.timeouts.send, Stage::kSend);
    auto done = [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
      if (ec || self->closed_) return self->close_now(nullptr);
      if (keep_alive) return self->read_request(false);
      self->linger(true);
    };
    bhttp::async_write(stream_, *res, std::move(done));
  }

  // The last answer is out: say so (close_notify, FIN), drop what still
  // arrives for a moment, then close.
  void linger(bool tls) {
    if (tls) {
      ERR_clear_error();
      SSL_shutdown(stream_.native_handle());
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    arm(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime), Stage::kLinger);
    drain();
  }

  void drain() {
    if (!drain_buffer_) drain_buffer_ = std::make_unique<std::array<char, 4096>>();
    stream_.socket().async_read_some(asio::buffer(*drain_buffer_),
                                     [self = shared_from_this()](beast::error_code ec, size_t n) {
                                       self->drained_ += n;
                                       if (ec || self->closed_ || self->drained_ > kLingerBytes)
                                         return self->close_now(nullptr);
                                       self->drain();
                                     });
  }

  TlsSocket stream_;
  asio::steady_timer deadline_;
  const Shared& shared_;
  ConnectionTable::Handle entry_;
  Stage stage_ = Stage::kHandshake;
  bool timed_out_ = false;
  bool closed_ = false;
  bool refused_ = false;
  static constexpr size_t kMaxHelloRecord = 5 + 16384;
  static constexpr std::chrono::milliseconds kHelloPollFirst{5};
  static constexpr std::chrono::milliseconds kHelloPollMax{250};
  std::unique_ptr<asio::steady_timer> hello_poll_;  // only while a ClientHello is partial
  std::chrono::milliseconds hello_backoff_ = kHelloPollFirst;
  ssize_t hello_seen_ = 0;
  uint64_t deadline_generation_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  RequestTarget target_;
  MonotonicTime body_started_;
  std::unique_ptr<std::array<char, 4096>> drain_buffer_;
  size_t drained_ = 0;
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
  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, threads); ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  Impl(const HttpsServerOptions& o, const Clock& c, Dispatch d)
      : options(o), dispatch(std::move(d)), table(o.limits), shared{dispatch, options, table, c} {}
  // Sessions die with the contexts below: none may start another's handshake then.
  ~Impl() { table.shut(); }

  HttpsServerOptions options;
  Dispatch dispatch;
  ConnectionTable table;
  Shared shared;
  // One context per I/O thread, each run by its thread alone (as nginx runs
  // a process per worker): a connection stays on the context it was given,
  // so its handlers never hop threads. The first also holds the acceptor
  // and the signals.
  std::vector<std::unique_ptr<asio::io_context>> contexts = make_contexts(options.io_threads);
  asio::io_context& ioc = *contexts.front();
  size_t next_context = 0;  // round robin over accepted connections; accept handler only
  std::shared_ptr<SSL_CTX> tls;
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc};
  asio::steady_timer accept_retry{ioc};
  int port = 0;

  // Accepting never waits for handshakes or idle connections: the table
  // decides, per connection, what it may hold.
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
      auto executor = socket.get_executor();
      auto session = std::make_shared<Session>(std::move(socket), tls.get(), shared);
      session->admit();
      asio::post(executor, [session] { session->start(); });  // on the connection's own thread
      accept();
    });
  }
};

HttpsServer::HttpsServer(const HttpsServerOptions& options, const Clock& clock, Dispatch dispatch)
    : impl_(std::make_unique<Impl>(options, clock, std::move(dispatch))) {
  // OpenSSL writes to the descriptor with write(): a peer gone mid-answer
  // must be an error on that connection, not SIGPIPE for the process.
  std::signal(SIGPIPE, SIG_IGN);
  impl_->tls = make_server_tls_context(
      {options.cert_chain_pem, options.key_pem, options.client_ca_pem, options.ticket_keys});

  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) throw Error::Invalid("invalid_listen", "not an IP address: " + options.host, "listen");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  auto& acceptor = impl_->acceptor;
  listen_on(acceptor, endpoint);
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

void HttpsServer::on_signal(std::function<void(int)> fn) {
  impl_->signals.add(SIGINT);
  impl_->signals.add(SIGTERM);
  impl_->signals.async_wait([fn = std::move(fn)](beast::error_code ec, int signo) {
    if (!ec) fn(signo);
  });
}

}  // namespace byoc::server
