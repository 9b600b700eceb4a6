#include "agent/kube_support_proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <ctime>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#include "agent/support_gateway_check.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/tcp_listen.h"
#include "base/http_client.h"
#include "kube/api_request.h"
#include "kube/support_rbac.h"
#include "model/access.h"

namespace byoc::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

// How often a streaming answer's grant and client are looked at again: a
// revoke or a hang-up ends the stream within about this long.
constexpr auto kStreamRecheckInterval = std::chrono::seconds(1);

// What a client may say about the answer it wants; nothing about who it is.
bool passes_through(std::string_view value) {
  if (value.size() > 256) return false;
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

std::string error_body(const std::string& code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}, {"field", ""}}}}.dump();
}

// The client at the other end of `fd` closed its side or the connection
// broke. (A request is all a client sends here: nothing it sends while an
// answer streams counts, only the end of what it sends.)
bool client_gone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

// Why a connection's upstream transfer was cancelled.
enum class CancelReason : int { kNone = 0, kStopping, kGrantEnded, kClientGone };

}  // namespace

struct KubeSupportProxy::Impl {
  KubeSupportProxyOptions options;
  asio::io_context accept_ioc{1};
  tcp::acceptor acceptor{accept_ioc};
  uint16_t port = 0;
  std::thread accept_thread;
  std::thread janitor_thread;
  std::atomic<bool> stopping{false};

  // One accepted connection, served by a thread of its own. Its I/O runs on
  // its own io_context, driven by that thread one operation at a time, each
  // under a deadline (beast::tcp_stream): a synchronous read or write would
  // wait for ever on a client that sends or reads nothing.
  struct Connection {
    asio::io_context ioc{1};
    tcp::socket socket{ioc};  // accepted here, then moved into the thread's stream
    // A duplicate of the socket's descriptor, for stop() (shutdown: every
    // operation pending on the socket ends) and the janitor (poll: did the
    // client hang up?). The stream closes its own descriptor when it likes
    // (beast does on a timeout), after which the number may name another
    // file; this one is closed only by the connection's thread, after being
    // set to -1 under `mu`. While it is open, so is the connection.
    int watch_fd = -1;
    // The upstream transfer's cancel flag (http::Request::cancel), set by
    // stop() and the janitor.
    std::atomic<bool> cancel{false};
    std::atomic<CancelReason> cancel_reason{CancelReason::kNone};
    std::thread thread;
    // Under mu. finished: no longer counted against max_connections; its
    // thread only closes the socket and returns. streaming: an upstream
    // transfer is under way for the grant below, which the janitor checks;
    // answering: its head went to the client, pieces may follow.
    bool finished = false;
    bool streaming = false;
    bool answering = false;
    std::string serial;
    KubeSupportGrant grant;

    void cancel_for(CancelReason reason) {
      CancelReason none = CancelReason::kNone;
      cancel_reason.compare_exchange_strong(none, reason);
      cancel = true;
    }
  };

  std::mutex mu;  // connections and their fields marked "under mu"
  std::condition_variable janitor_wake;
  std::list<std::shared_ptr<Connection>> connections;

  void accept_loop() {
    while (!stopping) {
      try {
        accept_one();
      } catch (const std::exception& e) {
        // Out of descriptors or memory for a connection's io_context: the
        // proxy goes on, and tries again soon.
        spdlog::error("kubernetes support proxy: cannot take a connection: {}", e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  void accept_one() {
    auto c = std::make_shared<Connection>();
    beast::error_code ec;
    acceptor.accept(c->socket, ec);
    if (stopping) return;
    if (ec) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // out of descriptors: try again soon
      return;
    }
    ::fcntl(c->socket.native_handle(), F_SETFD, FD_CLOEXEC);
    std::unique_lock lock(mu);
    reap_locked();
    if (live_locked() >= options.max_connections) {
      lock.unlock();
      refuse_at_once(c->socket, bhttp::status::service_unavailable,
                     error_body("too_many_connections", "the Kubernetes support proxy is at its connection limit"));
      return;
    }
    c->watch_fd = ::fcntl(c->socket.native_handle(), F_DUPFD_CLOEXEC, 0);
    if (c->watch_fd < 0) {
      lock.unlock();
      refuse_at_once(c->socket, bhttp::status::service_unavailable,
                     error_body("unavailable", "the Kubernetes support proxy is out of resources"));
      return;
    }
    connections.push_back(c);
    try {
      // The list holds the connection until its thread is joined.
      c->thread = std::thread([this, connection = c.get()] { run_connection(*connection); });
    } catch (const std::exception& e) {
      // No thread to be had (a process at its limit): this client is
      // refused, the proxy goes on.
      connections.pop_back();
      ::close(c->watch_fd);
      c->watch_fd = -1;
      lock.unlock();
      spdlog::error("kubernetes support proxy: cannot start a connection's thread: {}", e.what());
      refuse_at_once(c->socket, bhttp::status::service_unavailable,
                     error_body("unavailable", "the Kubernetes support proxy is out of resources"));
    }
  }

  size_t live_locked() const {
    size_t n = 0;
    for (const auto& c : connections)
      if (!c->finished) ++n;
    return n;
  }

  // Joins the threads of connections that ended (they take no lock after
  // `finished`: joining under mu is safe, and brief).
  void reap_locked() {
    for (auto it = connections.begin(); it != connections.end();) {
      if (!(*it)->finished) {
        ++it;
        continue;
      }
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = connections.erase(it);
    }
  }

  // An answer from the accepting thread, which must never wait on a client:
  // one non-blocking write (a fresh connection's send buffer takes it
  // whole; if not, the client gets less), then closed.
  static void refuse_at_once(tcp::socket& socket, bhttp::status status, const std::string& body) {
    std::string answer =
        "HTTP/1.1 " + std::to_string(static_cast<unsigned>(status)) + " " +
        std::string(bhttp::obsolete_reason(status)) +
        "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(answer), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // Cancels the upstream transfers of streaming connections whose grant
  // ended (revoked, expired, another scope) or whose client hung up. Every
  // kStreamRecheckInterval, until stop().
  void janitor_loop() {
    std::unique_lock lock(mu);
    while (!stopping) {
      janitor_wake.wait_for(lock, kStreamRecheckInterval, [this] { return stopping.load(); });
      if (stopping) return;
      struct Check {
        std::shared_ptr<Connection> connection;
        std::string serial;
        KubeSupportGrant grant;
      };
      std::vector<Check> checks;
      for (const auto& c : connections) {
        if (!c->streaming || c->finished || c->cancel) continue;
        if (c->watch_fd >= 0 && client_gone(c->watch_fd)) {
          end_stream_locked(*c, CancelReason::kClientGone);
          continue;
        }
        checks.push_back({c, c->serial, c->grant});
      }
      // The lookup may be slow (a store): not under the lock.
      lock.unlock();
      std::vector<std::shared_ptr<Connection>> ended;
      for (const auto& check : checks)
        if (!grant_still_holds(check.serial, check.grant)) {
          spdlog::info("kubernetes support proxy: grant {} ended: its stream is cut", check.grant.request_id);
          ended.push_back(check.connection);
        }
      lock.lock();
      for (const auto& c : ended) end_stream_locked(*c, CancelReason::kGrantEnded);
      // The connections' last references may go with these: not under mu.
      lock.unlock();
      checks.clear();
      ended.clear();
      lock.lock();
    }
  }

  // Cancels a connection's upstream transfer and, once its answer has begun,
  // ends the answer too: a write to a client that reads nothing would
  // otherwise go on for up to write_timeout, the grant gone or not.
  void end_stream_locked(Connection& c, CancelReason reason) {
    c.cancel_for(reason);
    if (c.answering && !c.finished && c.watch_fd >= 0) ::shutdown(c.watch_fd, SHUT_RDWR);
  }

  bool grant_still_holds(const std::string& serial, const KubeSupportGrant& granted) {
    std::optional<KubeSupportGrant> now;
    try {
      now = options.grant(serial);
    } catch (const std::exception& e) {
      // As when the request came: no grant that can't be read.
      spdlog::error("kubernetes support proxy: grant lookup failed: {}", e.what());
      return false;
    }
    return now && now->request_id == granted.request_id && now->scope == granted.scope &&
           now->not_after > static_cast<int64_t>(std::time(nullptr));
  }

  void audit(KubeAuditEntry entry) {
    try {
      options.audit(entry);
    } catch (const std::exception& e) {
      spdlog::error("kubernetes support proxy: cannot record a request: {}", e.what());
    }
  }

  // Runs one asynchronous operation on the connection's stream to its end,
  // on this thread: the io_context runs nothing else, and the operation's
  // deadline (the stream's expiry) or stop() (a shutdown of the socket)
  // ends it.
  template <class Start>
  beast::error_code run_to_end(Connection& c, Start&& start) {
    if (stopping) return asio::error::operation_aborted;
    beast::error_code result = asio::error::operation_aborted;
    start([&result](beast::error_code ec, std::size_t) { result = ec; });
    c.ioc.restart();
    c.ioc.run();
    return result;
  }

  // A whole answer (the connection ends after it). `head_only`: the answer
  // to a HEAD, without its body.
  void answer(Connection& c, beast::tcp_stream& stream, bhttp::status status, const std::string& body,
              bool head_only = false) {
    bhttp::response<bhttp::string_body> res{status, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::connection, "close");
    res.body() = body;
    res.prepare_payload();
    stream.expires_after(options.write_timeout);
    if (head_only) {
      bhttp::response_serializer<bhttp::string_body> serializer{res};
      run_to_end(c, [&](auto done) { bhttp::async_write_header(stream, serializer, std::move(done)); });
    } else {
      run_to_end(c, [&](auto done) { bhttp::async_write(stream, res, std::move(done)); });
    }
  }

  void run_connection(Connection& c) {
    beast::tcp_stream stream(std::move(c.socket));
    try {
      serve(c, stream);
    } catch (const std::exception& e) {
      spdlog::warn("kubernetes support proxy: {}", e.what());
    }
    int fd = -1;
    {
      std::lock_guard lock(mu);
      c.finished = true;
      c.streaming = false;
      std::swap(fd, c.watch_fd);
    }
    // Out of everyone's sight now: the client sees the end only after the
    // connection stopped counting, so it may connect again at once.
    if (fd >= 0) {
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
    beast::error_code ignored;
    stream.socket().close(ignored);
  }

  void serve(Connection& c, beast::tcp_stream& stream) {
    beast::flat_buffer buffer;
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    // The whole head within read_timeout, however it trickles in.
    stream.expires_after(options.read_timeout);
    beast::error_code ec =
        run_to_end(c, [&](auto done) { bhttp::async_read_header(stream, buffer, parser, std::move(done)); });
    if (ec) {
      // Gone, silent too long (the stream is closed then) or stopped: nobody to answer.
      if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout && !stopping)
        answer(c, stream, bhttp::status::bad_request, error_body("bad_request", "unreadable request"));
      return;
    }
    const auto& req = parser.get();
    const bool head_only = req.method() == bhttp::verb::head;
    auto header = [&](const char* name) { return std::string(req[name]); };
    if (!crypto::constant_time_equal(header("X-Byoc-Check-Key"), options.check_key)) {
      answer(c, stream, bhttp::status::unauthorized,
             error_body("unauthenticated", "not a support gateway of this environment"), head_only);
      return;
    }
    KubeAuditEntry entry;
    entry.serial = normalized_serial(header("X-Byoc-Serial"));
    auto refuse = [&](bhttp::status status, const std::string& code, const std::string& message) {
      entry.decision = code;
      entry.status = static_cast<int>(status);
      audit(entry);
      answer(c, stream, status, error_body(code, message), head_only);
    };
    const std::string method(req.method_string());
    const std::string target(req.target());
    std::optional<kube::ApiRequest> request = kube::parse_api_request(method, target);
    if (request) {
      entry.verb = request->verb;
      entry.api_group = request->api_group;
      entry.resource = request->resource;
      entry.subresource = request->subresource;
      entry.namespace_name = request->namespace_name;
      entry.name = request->name;
      if (!request->resource_request) entry.path = request->path;
    } else {
      entry.verb = method.size() <= 16 ? method : method.substr(0, 16);
      for (auto& ch : entry.verb) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    // nginx let only verified certificates through; a stray one is refused.
    if (header("X-Byoc-Verify") != "SUCCESS" || entry.serial.empty())
      return refuse(bhttp::status::forbidden, "no_certificate", "a verified support certificate is required");
    std::optional<KubeSupportGrant> grant;
    try {
      grant = options.grant(entry.serial);
    } catch (const std::exception& e) {
      spdlog::error("kubernetes support proxy: grant lookup failed: {}", e.what());
    }
    if (!grant) return refuse(bhttp::status::forbidden, "grant_inactive", "the certificate's grant is not active");
    entry.request_id = grant->request_id;
    if (grant->scope != model::kScopeKubernetesReadonly)
      return refuse(bhttp::status::forbidden, "scope_mismatch",
                    "the certificate's grant is for " + grant->scope + ", not kubernetes-readonly");
    if (!request) return refuse(bhttp::status::bad_request, "unknown_request", "not a Kubernetes API request");
    kube::ReadOnlyDecision decision = kube::check_support_readonly(*request);
    if (!decision.allowed())
      return refuse(bhttp::status::forbidden, std::string(kube::refusal_code(*decision.refusal)), decision.message);
    // Reads carry no body; anything that does is not a read.
    if (parser.content_length().value_or(0) > 0 || parser.chunked())
      return refuse(bhttp::status::forbidden, "write_refused", "a request with a body is not a read");
    forward(c, stream, req, entry.serial, *grant, entry, head_only);
  }

  void forward(Connection& c, beast::tcp_stream& stream, const bhttp::request<bhttp::empty_body>& req,
               const std::string& serial, const KubeSupportGrant& grant, KubeAuditEntry& entry, bool head_only) {
    auto unavailable = [&](const std::string& message) {
      entry.decision = "upstream_unavailable";
      entry.status = 502;
      audit(entry);
      answer(c, stream, bhttp::status::bad_gateway, error_body("upstream_unavailable", message), head_only);
    };
    const kube::ClientConfig& api = options.api;
    std::string token;
    if (api.token) {
      try {
        token = api.token();
      } catch (const std::exception& e) {
        spdlog::warn("kubernetes support proxy: no token for the Kubernetes API: {}", e.what());
        return unavailable("the agent has no credentials for the Kubernetes API now");
      }
    }
    http::TlsOptions tls;
    tls.ca_pem = api.ca_pem;
    tls.client_cert_pem = api.client_cert_pem;
    tls.client_key_pem = api.client_key_pem;
    http::Client upstream(tls);
    http::Request out;
    // A HEAD is a get to RBAC, and answered as the API server answers it: without a body.
    out.method = head_only ? "HEAD" : "GET";
    out.url = api.server + std::string(req.target());
    if (api.token) out.headers.emplace_back("Authorization", "Bearer " + token);
    out.headers.emplace_back(kube::kImpersonateUserHeader, kube::kSupportUser);
    out.headers.emplace_back(kube::kImpersonateGroupHeader, kube::kSupportGroup);
    out.headers.emplace_back(kube::kImpersonateGrantHeader, grant.request_id);
    for (const char* name : {"Accept", "Accept-Encoding"}) {
      std::string value(req[name]);
      if (!value.empty() && passes_through(value)) out.headers.emplace_back(name, value);
    }
    out.headers.emplace_back("User-Agent", "byoc-support grant=" + grant.request_id);
    // No answer outlives the grant, nor the bound; the janitor ends it
    // sooner should the grant end sooner (a revoke) or the client go.
    const int64_t left = grant.not_after - static_cast<int64_t>(std::time(nullptr));
    auto limit =
        std::min<std::chrono::seconds>(options.max_answer_time, std::chrono::seconds(std::max<int64_t>(left, 1)));
    out.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(limit);
    out.cancel = &c.cancel;

    bhttp::response<bhttp::empty_body> head;
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    bool head_seen = false;  // the API server's head arrived (and was audited)
    bool head_sent = false;
    beast::error_code write_error;
    out.on_head = [&](int status, const std::vector<std::pair<std::string, std::string>>& headers) {
      // Audited as it is decided: a watch may stream for many minutes yet.
      head_seen = true;
      entry.decision = "allowed";
      entry.status = status;
      audit(entry);
      head.result(static_cast<unsigned>(status));
      head.version(11);
      for (const auto& [name, value] : headers)
        if ((name == "content-type" || name == "content-encoding" || name == "audit-id" || name == "warning") &&
            passes_through(value))
          head.set(name, value);
      head.set(bhttp::field::connection, "close");
      if (!head_only) head.chunked(true);
      stream.expires_after(options.write_timeout);
      write_error = run_to_end(c, [&](auto done) { bhttp::async_write_header(stream, serializer, std::move(done)); });
      head_sent = !write_error;
      if (head_sent) {
        std::lock_guard lock(mu);
        c.answering = true;
      }
      return head_sent;
    };
    out.on_body = [&](std::string_view piece) {
      // An empty chunk would end the answer; a HEAD's has none.
      if (piece.empty() || head_only) return true;
      auto chunk = bhttp::make_chunk(asio::const_buffer(piece.data(), piece.size()));
      stream.expires_after(options.write_timeout);
      write_error = run_to_end(c, [&](auto done) { asio::async_write(stream, chunk, std::move(done)); });
      return !write_error;
    };

    {
      std::lock_guard lock(mu);
      c.streaming = true;
      c.serial = serial;
      c.grant = grant;
    }
    std::string failure;
    try {
      upstream.send(out);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    {
      std::lock_guard lock(mu);
      c.streaming = false;
    }
    const CancelReason cancelled = c.cancel_reason.load();
    if (!head_seen) {
      if (cancelled == CancelReason::kGrantEnded) return refuse_after_grant_ended(c, stream, entry, head_only);
      spdlog::warn("kubernetes support proxy: {}", failure);
      return unavailable("the Kubernetes API did not answer");
    }
    if (!failure.empty()) {
      // Ended mid-answer (the bound, the grant's end, a client gone, stop):
      // the chunked answer stops without its last chunk, which the client sees.
      if (cancelled == CancelReason::kNone)
        spdlog::info("kubernetes support proxy: an answer ended early: {}", failure);
      return;
    }
    if (head_sent && !head_only && !write_error) {
      stream.expires_after(options.write_timeout);
      run_to_end(c, [&](auto done) { asio::async_write(stream, bhttp::make_chunk_last(), std::move(done)); });
    }
  }

  // The grant ended while the API server was still to answer: refused as a
  // request of that moment would be.
  void refuse_after_grant_ended(Connection& c, beast::tcp_stream& stream, KubeAuditEntry& entry, bool head_only) {
    entry.decision = "grant_inactive";
    entry.status = 403;
    audit(entry);
    answer(c, stream, bhttp::status::forbidden, error_body("grant_inactive", "the certificate's grant is not active"),
           head_only);
  }
};

KubeSupportProxy::KubeSupportProxy(KubeSupportProxyOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.check_key.size() != 64)
    throw Error::Invalid("invalid_check_key", "the gateway check key must be 64 hex digits", "check_key");
  if (!options.grant || !options.audit)
    throw Error::Invalid("invalid_options", "the support proxy needs a grant lookup and an audit sink");
  if (options.api.server.rfind("https://", 0) != 0 || options.api.ca_pem.empty())
    throw Error::Invalid("invalid_options", "the support proxy needs the API server's https URL and CA", "api");
  impl_->options = std::move(options);
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.listen_host, ec);
  if (ec) throw Error::Invalid("invalid_options", "listen host must be an IP address", "listen_host");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  listen_on(acceptor, endpoint, "kubernetes support proxy: ");
  impl_->port = acceptor.local_endpoint().port();
  try {
    impl_->janitor_thread = std::thread([impl = impl_.get()] { impl->janitor_loop(); });
    impl_->accept_thread = std::thread([impl = impl_.get()] { impl->accept_loop(); });
  } catch (const std::system_error& e) {
    stop();
    throw Error::Unavailable(std::string("kubernetes support proxy: cannot start its threads: ") + e.what());
  }
}

KubeSupportProxy::~KubeSupportProxy() { stop(); }

uint16_t KubeSupportProxy::port() const { return impl_->port; }

void KubeSupportProxy::stop() {
  if (impl_->stopping.exchange(true)) return;
  // Wakes the blocked accept, and the janitor (the lock orders its look at
  // `stopping` before this wake-up).
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  { std::lock_guard lock(impl_->mu); }
  impl_->janitor_wake.notify_all();
  if (impl_->janitor_thread.joinable()) impl_->janitor_thread.join();
  // Every connection: its upstream transfer sees its cancel flag (within
  // ~20 ms), a read or write pending on its socket ends with the shutdown.
  std::list<std::shared_ptr<Impl::Connection>> connections;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->connections) {
      c->cancel_for(CancelReason::kStopping);
      if (c->watch_fd >= 0) ::shutdown(c->watch_fd, SHUT_RDWR);
    }
    connections.swap(impl_->connections);
  }
  for (auto& c : connections)
    if (c->thread.joinable()) c->thread.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace byoc::agent
