#include "agent/support_gateway_check.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "base/crypto.h"
#include "base/error.h"
#include "base/tcp_listen.h"
#include "base/percent.h"
#include "model/access.h"
#include "model/validate.h"

namespace byoc::agent {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}


}  // namespace

std::string normalized_serial(std::string_view raw) {
  size_t start = raw.find_first_not_of('0');
  if (start == std::string_view::npos) return "";
  std::string_view digits = raw.substr(start);
  if (digits.size() > 64) return "";
  std::string out;
  for (char c : digits) {
    if (hex_digit_value(c) < 0) return "";
    out.push_back(ascii_lower(c));
  }
  return out;
}

std::string verify_denial_reason(std::string_view verify) {
  if (verify == "SUCCESS") return "";
  if (verify.empty() || verify == "NONE") return "no_certificate";
  constexpr std::string_view kFailed = "FAILED:";
  if (!verify.starts_with(kFailed)) return "certificate_untrusted";
  // X509_verify_cert_error_string() texts, which nginx appends.
  std::string_view why = verify.substr(kFailed.size());
  if (why == "certificate has expired") return "certificate_expired";
  if (why == "certificate is not yet valid") return "certificate_not_yet_valid";
  if (why == "certificate revoked") return "certificate_revoked";
  if (why == "CRL has expired" || why == "CRL is not yet valid" || why == "unable to get certificate CRL")
    return "crl_stale";
  return "certificate_untrusted";
}

bool uri_supplies_credentials(std::string_view uri) {
  // The whole URI, path included, must decode: what we can't read as
  // ClickHouse would is refused.
  if (!percent_decode(uri, true)) return true;
  size_t q = uri.find('?');
  if (q == std::string_view::npos) return false;
  // Everything after the '?' (a '#' included: stricter than ClickHouse, never looser).
  std::string_view query = uri.substr(q + 1);
  while (true) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto name = percent_decode(pair.substr(0, pair.find('=')), true);
    if (!name) return true;
    // ClickHouse's parameter reader drops a UTF-8 byte-order mark before the first name.
    if (name->rfind("\xEF\xBB\xBF", 0) == 0) name->erase(0, 3);
    for (std::string_view credential : {"user", "password", "quota_key"})
      if (ascii_iequals(*name, credential)) return true;
    if (amp == std::string_view::npos) return false;
    query.remove_prefix(amp + 1);
  }
}

GatewayVerdict judge_gateway_request(const GatewayCheckRequest& request, const GatewayGrantScope& grant_scope) {
  GatewayVerdict verdict;
  verdict.serial = normalized_serial(request.serial);
  std::string reason = verify_denial_reason(request.verify);
  // nginx only sends /refused when verification failed: SUCCESS there is a
  // contradiction, refused like any untrusted certificate.
  if (request.refused && reason.empty()) reason = "certificate_untrusted";
  if (reason == "no_certificate") verdict.serial.clear();
  if (!reason.empty() && reason != "no_certificate" && !request.issued_here) {
    reason = "certificate_untrusted";
    verdict.serial.clear();
  }
  if (reason.empty() && (request.credentials || uri_supplies_credentials(request.uri)))
    reason = "credentials_supplied";
  if (reason.empty()) {
    std::string scope = verdict.serial.empty() || !grant_scope ? "" : grant_scope(verdict.serial);
    if (scope.empty()) reason = "grant_inactive";
    else if (scope != model::kScopeClickhouseSystem) reason = "scope_mismatch";
  }
  verdict.admit = reason.empty();
  verdict.reason = std::move(reason);
  return verdict;
}

std::string gateway_denial_message(const std::string& reason) {
  if (reason == "no_certificate") return "the support gateway requires a client certificate";
  if (reason == "certificate_expired") return "the client certificate has expired";
  if (reason == "certificate_not_yet_valid") return "the client certificate is not valid yet";
  if (reason == "certificate_revoked") return "the client certificate is revoked";
  if (reason == "crl_stale") return "the gateway's revocation list is out of date: access waits for a new one";
  if (reason == "grant_inactive") return "no active support grant holds this certificate";
  if (reason == "scope_mismatch") return "this certificate's grant does not reach ClickHouse (its scope is another)";
  if (reason == "credentials_supplied")
    return "support access authenticates by certificate alone: send no user, password or quota key";
  return "the client certificate is not one this environment's support CA issued";
}

namespace {

using Response = bhttp::response<bhttp::string_body>;
using Request = bhttp::request<bhttp::empty_body>;

// After a closing answer, what the client still sends is read and dropped
// for this long, so that closing with unread data (a reset) doesn't destroy
// the answer before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 64 * 1024;

Response error_response(bhttp::status status, unsigned version, const std::string& code,
                        const std::string& message) {
  Response res{status, version};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = nlohmann::json{{"error", {{"code", code}, {"message", message}, {"field", ""}}}}.dump();
  return res;
}

class Session;

// What the server's thread shares with its sessions. Only the I/O thread
// touches `sessions`, and stop() once that thread is joined.
struct Shared {
  std::string key;
  GatewayGrantScope grant_scope;
  GatewayCheckServer::OnDenial on_denial;
  GatewayIssuedHere issued_here;
  GatewayCheckLimits limits;
  std::set<Session*> sessions;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)), buffer_(shared_->limits.header_limit + 4096) {
    shared_->sessions.insert(this);
  }
  ~Session() { shared_->sessions.erase(this); }

  void start() { read_head(); }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  void read_head() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(shared_->limits.header_limit));
    stream_.expires_after(shared_->limits.read_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) { self->on_head(ec); });
  }

  void on_head(beast::error_code ec) {
    if (ec) {
      // A client gone, idle past the deadline or cut short has nobody to answer.
      bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (!parse_error) return close();
      return answer(error_response(bhttp::status::bad_request, 11, "malformed_request",
                                   "the request is not valid HTTP/1.1 within the limits"),
                    false);
    }
    const Request& req = parser_->get();
    bool keep_alive = false;
    Response res;
    try {
      res = handle(req, keep_alive);
    } catch (const std::exception& e) {
      spdlog::error("support gateway check failed: {}", e.what());
      res = error_response(bhttp::status::internal_server_error, req.version(), "internal", "the check failed");
      keep_alive = false;
    }
    // A HEAD answer has the same status and no body.
    if (req.method() == bhttp::verb::head) res.body().clear();
    answer(std::move(res), keep_alive);
  }

  // One header value; nullopt when it is sent more than once.
  static std::optional<std::string> single(const Request& req, std::string_view name) {
    if (req.count(name) > 1) return std::nullopt;
    return std::string(req[name]);
  }

  Response handle(const Request& req, bool& keep_alive) {
    unsigned v = req.version();
    auto key = single(req, "X-Byoc-Check-Key");
    if (!key || !crypto::constant_time_equal(*key, shared_->key))
      return error_response(bhttp::status::unauthorized, v, "check_key_invalid", "X-Byoc-Check-Key is wrong");
    // An error_page redirect keeps a HEAD a HEAD (unless proxy_method says GET): take both.
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      auto res = error_response(bhttp::status::method_not_allowed, v, "method_not_allowed", "only GET is served");
      res.set(bhttp::field::allow, "GET, HEAD");
      return res;
    }
    bool refused = req.target() == "/refused";
    if (!refused && req.target() != "/check")
      return error_response(bhttp::status::not_found, v, "not_found", "only /check and /refused are served");
    if (parser_->chunked() || parser_->content_length().value_or(0) > 0)
      return error_response(bhttp::status::bad_request, v, "body_not_allowed", "the check takes no body");
    auto service = single(req, "X-Byoc-Service");
    if (!service || !model::is_dns1123_label(*service))
      return error_response(bhttp::status::bad_request, v, "invalid_service", "X-Byoc-Service is not a service name");
    auto credentials = single(req, "X-Byoc-Credentials");
    GatewayCheckRequest check;
    check.refused = refused;
    auto verify = single(req, "X-Byoc-Verify");
    auto serial = single(req, "X-Byoc-Serial");
    auto uri = single(req, "X-Byoc-Uri");
    // nginx leaves out a header whose value is empty: a missing serial or
    // verify is an empty one; the URI and the credentials flag never are.
    if (!credentials || (*credentials != "0" && *credentials != "1") || !verify || !serial || !uri ||
        uri->empty())
      return error_response(bhttp::status::bad_request, v, "invalid_header",
                            "an X-Byoc- header is missing, repeated or malformed");
    check.credentials = *credentials == "1";
    check.verify = std::move(*verify);
    check.serial = std::move(*serial);
    check.uri = std::move(*uri);
    if (auto certificate = single(req, "X-Byoc-Certificate"); certificate && shared_->issued_here) {
      auto pem = percent_decode(*certificate, false);
      check.issued_here = pem && shared_->issued_here(*pem);
    }

    GatewayVerdict verdict = judge_gateway_request(check, shared_->grant_scope);
    keep_alive = req.keep_alive() && ++served_ < shared_->limits.max_requests_per_connection;
    if (verdict.admit) {
      Response res{bhttp::status::no_content, v};
      res.set("X-Byoc-Serial", verdict.serial);
      return res;
    }
    try {
      if (shared_->on_denial) shared_->on_denial(*service, verdict.reason, verdict.serial);
    } catch (const std::exception& e) {
      spdlog::error("support gateway: a refusal was not counted: {}", e.what());
    }
    Response refusal =
        error_response(bhttp::status::forbidden, v, verdict.reason, gateway_denial_message(verdict.reason));
    // nginx drops an auth_request's body: the reason goes back in a header too.
    refusal.set("X-Byoc-Refusal", verdict.reason);
    return refusal;
  }

  void answer(Response res, bool keep_alive) {
    res.set(bhttp::field::cache_control, "no-store");
    res.keep_alive(keep_alive);
    res.prepare_payload();
    auto out = std::make_shared<Response>(std::move(res));
    stream_.expires_after(shared_->limits.write_timeout);
    bhttp::async_write(stream_, *out, [self = shared_from_this(), out, keep_alive](beast::error_code ec, size_t) {
      if (ec) return self->close();
      if (keep_alive) return self->read_head();
      self->linger();
    });
  }

  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drain_buffer_), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerBytes) return self->close();
      self->drain();
    });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
  size_t served_ = 0;
  std::array<char, 1024> drain_buffer_{};
  size_t drained_ = 0;
};

}  // namespace

struct GatewayCheckServer::Impl {
  // First: the acceptor and sessions below must go before their context.
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::thread thread;
  std::mutex stop_mutex;
  uint16_t port = 0;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors: the connection waits in the backlog; retry
        // shortly rather than spin on the error.
        spdlog::warn("support gateway check: accept failed: {}", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](beast::error_code e) {
          if (!e) accept();
        });
        return;
      }
      // Asio opens sockets without CLOEXEC; children must never inherit them.
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      if (shared->sessions.size() < shared->limits.max_connections)
        std::make_shared<Session>(std::move(socket), shared)->start();
      // else the socket closes here: the client sees the connection end at once.
      accept();
    });
  }

  void run() {
    // A handler that throws must not end the thread the gateway depends on.
    while (true) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("support gateway check: {}", e.what());
      }
    }
  }
};

GatewayCheckServer::GatewayCheckServer(std::string check_key, GatewayGrantScope grant_scope, OnDenial on_denial,
                                       GatewayCheckLimits limits, uint16_t port, GatewayIssuedHere issued_here,
                                       const std::string& listen_host)
    : impl_(std::make_unique<Impl>()) {
  if (check_key.size() != 64 || check_key.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw Error::Invalid("invalid_check_key", "the gateway check key must be 64 hex digits");
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(listen_host, ec);
  if (ec)
    throw Error::Invalid("invalid_listen_host", "the gateway check listens on an IP address, not `" + listen_host + "`");
  auto& shared = *impl_->shared;
  shared.key = std::move(check_key);
  shared.grant_scope = std::move(grant_scope);
  shared.on_denial = std::move(on_denial);
  shared.issued_here = std::move(issued_here);
  shared.limits = limits;

  tcp::endpoint endpoint(address, port);
  auto& acceptor = impl_->acceptor;
  listen_on(acceptor, endpoint, "support gateway check: ");
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

GatewayCheckServer::~GatewayCheckServer() { stop(); }

uint16_t GatewayCheckServer::port() const { return impl_->port; }

void GatewayCheckServer::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The I/O thread is gone: its state may be touched here.
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  for (Session* session : impl_->shared->sessions) session->close();
}

}  // namespace byoc::agent
