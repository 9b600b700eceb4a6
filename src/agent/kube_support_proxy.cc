#include "agent/kube_support_proxy.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/support_gateway_check.h"
#include "base/crypto.h"
#include "base/error.h"
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

constexpr auto kWriteTimeout = std::chrono::seconds(30);
// TODO(scope plumbing): model::kScopeKubernetesReadonly once model/access.h has it.
constexpr const char* kKubernetesReadonlyScope = "kubernetes-readonly";

// What a client may say about the answer it wants; nothing about who it is.
bool passes_through(std::string_view value) {
  if (value.size() > 256) return false;
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

void set_socket_timeout(int fd, int option, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

std::string error_body(const std::string& code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}, {"field", ""}}}}.dump();
}

}  // namespace

struct KubeSupportProxy::Impl {
  KubeSupportProxyOptions options;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};

  std::mutex mu;  // connections
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::list<Connection> connections;

  void accept_loop() {
    while (!stopping) {
      beast::error_code ec;
      tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (stopping) return;
      if (ec) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // out of descriptors: try again soon
        continue;
      }
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      std::lock_guard lock(mu);
      reap_locked();
      if (connections.size() >= options.max_connections) {
        answer_and_close(socket, bhttp::status::service_unavailable,
                         error_body("too_many_connections", "the Kubernetes support proxy is at its connection limit"));
        continue;
      }
      auto& c = connections.emplace_back();
      c.fd = socket.native_handle();
      c.thread = std::thread([this, &c, s = std::move(socket)]() mutable {
        try {
          serve(s);
        } catch (const std::exception& e) {
          spdlog::warn("kubernetes support proxy: {}", e.what());
        }
        beast::error_code ignored;
        std::lock_guard lock(mu);
        s.shutdown(tcp::socket::shutdown_both, ignored);
        s.close(ignored);
        c.fd = -1;
        c.done = true;
      });
    }
  }

  // Joins the threads of connections that ended.
  void reap_locked() {
    for (auto it = connections.begin(); it != connections.end();) {
      if (!it->done) {
        ++it;
        continue;
      }
      if (it->thread.joinable()) it->thread.join();
      it = connections.erase(it);
    }
  }

  static void answer_and_close(tcp::socket& socket, bhttp::status status, const std::string& body) {
    bhttp::response<bhttp::string_body> res{status, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::connection, "close");
    res.body() = body;
    res.prepare_payload();
    beast::error_code ignored;
    set_socket_timeout(socket.native_handle(), SO_SNDTIMEO, kWriteTimeout);
    bhttp::write(socket, res, ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
  }

  void audit(KubeAuditEntry entry) {
    try {
      options.audit(entry);
    } catch (const std::exception& e) {
      spdlog::error("kubernetes support proxy: cannot record a request: {}", e.what());
    }
  }

  void serve(tcp::socket& socket) {
    set_socket_timeout(socket.native_handle(), SO_RCVTIMEO, options.read_timeout);
    beast::flat_buffer buffer;
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    beast::error_code ec;
    bhttp::read_header(socket, buffer, parser, ec);
    if (ec) {
      if (ec != bhttp::error::end_of_stream)
        answer_and_close(socket, bhttp::status::bad_request, error_body("bad_request", "unreadable request"));
      return;
    }
    const auto& req = parser.get();
    auto header = [&](const char* name) { return std::string(req[name]); };
    if (!crypto::constant_time_equal(header("X-Byoc-Check-Key"), options.check_key)) {
      answer_and_close(socket, bhttp::status::unauthorized,
                       error_body("unauthenticated", "not a support gateway of this environment"));
      return;
    }
    KubeAuditEntry entry;
    entry.serial = normalized_serial(header("X-Byoc-Serial"));
    auto refuse = [&](bhttp::status status, const std::string& code, const std::string& message) {
      entry.decision = code;
      entry.status = static_cast<int>(status);
      audit(entry);
      answer_and_close(socket, status, error_body(code, message));
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
      for (auto& c : entry.verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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
    if (grant->scope != kKubernetesReadonlyScope)
      return refuse(bhttp::status::forbidden, "scope_mismatch",
                    "the certificate's grant is for " + grant->scope + ", not kubernetes-readonly");
    if (!request) return refuse(bhttp::status::bad_request, "unknown_request", "not a Kubernetes API request");
    kube::ReadOnlyDecision decision = kube::check_support_readonly(*request);
    if (!decision.allowed())
      return refuse(bhttp::status::forbidden, std::string(kube::refusal_code(*decision.refusal)), decision.message);
    // Reads carry no body; anything that does is not a read.
    if (parser.content_length().value_or(0) > 0 || parser.chunked())
      return refuse(bhttp::status::forbidden, "write_refused", "a request with a body is not a read");
    forward(socket, req, *grant, entry);
  }

  void forward(tcp::socket& socket, const bhttp::request<bhttp::empty_body>& req, const KubeSupportGrant& grant,
               KubeAuditEntry& entry) {
    const kube::ClientConfig& api = options.api;
    http::TlsOptions tls;
    tls.ca_pem = api.ca_pem;
    tls.client_cert_pem = api.client_cert_pem;
    tls.client_key_pem = api.client_key_pem;
    http::Client upstream(tls);
    http::Request out;
    out.method = "GET";
    out.url = api.server + std::string(req.target());
    if (api.token) out.headers.emplace_back("Authorization", "Bearer " + api.token());
    out.headers.emplace_back(kube::kImpersonateUserHeader, kube::kSupportUser);
    out.headers.emplace_back(kube::kImpersonateGroupHeader, kube::kSupportGroup);
    out.headers.emplace_back(kube::kImpersonateGrantHeader, grant.request_id);
    for (const char* name : {"Accept", "Accept-Encoding"}) {
      std::string value(req[name]);
      if (!value.empty() && passes_through(value)) out.headers.emplace_back(name, value);
    }
    out.headers.emplace_back("User-Agent", "byoc-support grant=" + grant.request_id);
    // No answer outlives the grant, nor the bound.
    const int64_t left = grant.not_after - static_cast<int64_t>(std::time(nullptr));
    auto limit = std::min<std::chrono::seconds>(options.max_answer_time, std::chrono::seconds(std::max<int64_t>(left, 1)));
    out.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(limit);
    out.cancel = &stopping;
    set_socket_timeout(socket.native_handle(), SO_SNDTIMEO, kWriteTimeout);
    bhttp::response<bhttp::empty_body> head;
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    bool head_sent = false;
    beast::error_code write_error;
    out.on_head = [&](int status, const std::vector<std::pair<std::string, std::string>>& headers) {
      entry.status = status;
      head.result(static_cast<unsigned>(status));
      head.version(11);
      for (const auto& [name, value] : headers)
        if ((name == "content-type" || name == "content-encoding" || name == "audit-id" || name == "warning") &&
            passes_through(value))
          head.set(name, value);
      head.set(bhttp::field::connection, "close");
      head.chunked(true);
      bhttp::write_header(socket, serializer, write_error);
      head_sent = !write_error;
      return head_sent;
    };
    out.on_body = [&](std::string_view piece) {
      asio::write(socket, bhttp::make_chunk(asio::const_buffer(piece.data(), piece.size())), write_error);
      return !write_error;
    };
    try {
      upstream.send(out);
    } catch (const Error& e) {
      if (!head_sent) {
        entry.decision = "upstream_unavailable";
        entry.status = 502;
        audit(entry);
        answer_and_close(socket, bhttp::status::bad_gateway,
                         error_body("upstream_unavailable", "the Kubernetes API did not answer"));
        spdlog::warn("kubernetes support proxy: {}", e.what());
        return;
      }
      // Ended mid-answer (the bound, the grant's end, a client gone): the
      // chunked answer stops without its last chunk, which the client sees.
    }
    entry.decision = "allowed";
    audit(entry);
    if (head_sent && !write_error) asio::write(socket, bhttp::make_chunk_last(), write_error);
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
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error::Unavailable("kubernetes support proxy: cannot listen on " + impl_->options.listen_host + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

KubeSupportProxy::~KubeSupportProxy() { stop(); }

uint16_t KubeSupportProxy::port() const { return impl_->port; }

void KubeSupportProxy::stop() {
  if (impl_->stopping.exchange(true)) return;
  // Wakes the blocked accept; then every connection's socket, which ends
  // its reads and writes (its upstream request sees `stopping`).
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::list<Impl::Connection> connections;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->connections)
      if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
    connections.swap(impl_->connections);
  }
  for (auto& c : connections)
    if (c.thread.joinable()) c.thread.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace byoc::agent
