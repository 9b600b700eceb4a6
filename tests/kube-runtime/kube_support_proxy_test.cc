// The kubernetes-readonly proxy between the support gateway (nginx) and the
// API server: requests sent as nginx sends them, the stand-in API server
// (fake_kube_api.h) behind. What it forwards carries the agent's token and
// the impersonation of byoc-support with the grant, and nothing of the
// client's identity; what the read-only role doesn't grant never leaves it;
// every decision is audited. Answers that take their time — a quiet watch, a
// trickling one — come from StreamingKubeApi below, and clients that send or
// read nothing are raw sockets: the proxy's deadlines, its janitor (a
// revoked grant, a client gone) and stop() are tested against them.
#include "agent/kube_support_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <future>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "base/crypto.h"
#include "base/http_client.h"
#include "fake_kube_api.h"
#include "testing/testing.h"

namespace byoc::testing {
namespace {

using agent::KubeAuditEntry;
using nlohmann::json;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kKey(64, 'e');
constexpr const char* kGrant = "acc-0123456789abcdef";

// A stand-in API server for answers that take their time, which FakeKubeApi
// (it answers at once) can't play: HTTPS on a loopback port with a
// certificate of a test CA. Every request gets a watch's head (200,
// chunked) at once, and then
//   kQuiet:   nothing, until the client (the proxy) hangs up or stop();
//   kTrickle: an event line every 100 ms, likewise;
//   kFlood:   64 KiB pieces as fast as they are taken, likewise;
// or, kSilent, not even the head.
// It counts requests, and the connections whose client hung up.
class StreamingKubeApi {
 public:
  enum class Mode { kQuiet, kTrickle, kFlood, kSilent };

  explicit StreamingKubeApi(Mode mode) : mode_(mode) {
    crypto::CertificateSpec spec;
    spec.common_name = "streaming-kube-api-ca";
    spec.not_before = std::chrono::system_clock::now() - 1h;
    spec.not_after = std::chrono::system_clock::now() + 24h;
    auto ca = crypto::make_ca(spec);
    ca_pem_ = ca.cert_pem;
    spec.common_name = "127.0.0.1";
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    auto leaf = crypto::issue(ca, spec);
    tls_.use_certificate_chain(boost::asio::buffer(leaf.cert_pem));
    tls_.use_private_key(boost::asio::buffer(leaf.key_pem), boost::asio::ssl::context::pem);
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~StreamingKubeApi() { stop(); }

  void stop() {
    if (stopping_.exchange(true)) return;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
  }

  kube::ClientConfig client_config() const {
    kube::ClientConfig config;
    config.server = "https://127.0.0.1:" + std::to_string(port_);
    config.ca_pem = ca_pem_;
    config.token = [] { return std::string("streaming-token"); };
    return config;
  }
  int requests() const { return requests_; }
  int hung_up() const { return hung_up_; }

 private:
  using tcp = boost::asio::ip::tcp;

  void accept_loop() {
    while (!stopping_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_ || ec) return;
      std::lock_guard lock(mu_);
      fds_.insert(socket.native_handle());
      threads_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(tcp::socket socket) {
    const int fd = socket.native_handle();
    boost::asio::ssl::stream<tcp::socket> stream(std::move(socket), tls_);
    boost::system::error_code ec;
    stream.handshake(boost::asio::ssl::stream_base::server, ec);
    boost::beast::flat_buffer buffer;
    boost::beast::http::request_parser<boost::beast::http::empty_body> parser;
    if (!ec) boost::beast::http::read_header(stream, buffer, parser, ec);
    if (!ec) ++requests_;
    if (!ec && mode_ != Mode::kSilent) {
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
      boost::asio::write(stream, boost::asio::buffer(head), ec);
    }
    const std::string flood_line(64 * 1024 - 1, 'x');
    for (int event = 0; !ec && !stopping_; ++event) {
      if (mode_ == Mode::kTrickle || mode_ == Mode::kFlood) {
        std::string line =
            mode_ == Mode::kFlood ? flood_line : "{\"type\":\"BOOKMARK\",\"n\":" + std::to_string(event) + "}";
        line += "\n";
        std::string chunk = (std::stringstream() << std::hex << line.size()).str() + "\r\n" + line + "\r\n";
        boost::asio::write(stream, boost::asio::buffer(chunk), ec);
        if (ec) break;
      }
      // A request is all a client sends: readable now means it hung up.
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, mode_ == Mode::kFlood ? 0 : 100) > 0) {
        char byte;
        stream.read_some(boost::asio::buffer(&byte, 1), ec);
        if (!ec) ec = boost::asio::error::eof;
      }
    }
    if (ec && !stopping_) ++hung_up_;
    std::lock_guard lock(mu_);
    fds_.erase(fd);
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);
  }

  const Mode mode_;
  std::string ca_pem_;
  boost::asio::io_context ioc_;
  boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> hung_up_{0};
  std::mutex mu_;
  std::set<int> fds_;  // of connections being served, for stop()
  std::list<std::thread> threads_;
  std::thread accept_thread_;
};

// A raw client connection to the proxy: what nginx never is, an idle or a
// half-sent request, or one that hangs up.
class RawConnection {
 public:
  // receive_buffer: SO_RCVBUF, for a client that reads nothing to be full soon; 0: the system's.
  explicit RawConnection(uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ >= 0 && receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot connect");
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Reads until `until` is in what was read, the proxy ends the connection
  // (ended() is true then) or `limit` passes; what was read.
  std::string read(std::chrono::milliseconds limit, std::string_view until = {}) {
    const auto deadline = Clock::now() + limit;
    while (!ended_ && (until.empty() || received_.find(until) == std::string::npos)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        ended_ = true;  // 0: the proxy closed; <0: reset
        break;
      }
      received_.append(buf, static_cast<size_t>(n));
    }
    return received_;
  }
  // Whether the proxy ended the connection within `limit`.
  bool ends_within(std::chrono::milliseconds limit) {
    read(limit);
    return ended_;
  }
  bool ended() const { return ended_; }

 private:
  int fd_ = -1;
  std::string received_;
  bool ended_ = false;
};

// A request as nginx sends it, on the wire.
std::string raw_request(const std::string& method, const std::string& target) {
  return method + " " + target + " HTTP/1.1\r\nHost: byoc-agent\r\nX-Byoc-Check-Key: " + kKey +
         "\r\nX-Byoc-Verify: SUCCESS\r\nX-Byoc-Serial: 0A1B\r\n\r\n";
}

constexpr const char* kWatchPods = "/api/v1/namespaces/byoc-services/pods?watch=true";

// How long `f` takes; a call still running after `limit` ends the test
// binary (a hung call can't be abandoned), which fails the test.
template <typename F>
std::chrono::milliseconds timed(std::chrono::milliseconds limit, const char* what, F&& f) {
  const auto start = Clock::now();
  std::promise<void> done;
  auto finished = done.get_future();
  std::thread runner([&] {
    f();
    done.set_value();
  });
  if (finished.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "%s did not return within %lld ms\n", what, static_cast<long long>(limit.count()));
    std::fflush(stderr);
    std::_Exit(1);
  }
  runner.join();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// A streaming request through the proxy on a thread of its own, as kubectl
// makes a watch: what it saw, and when it ended.
class StreamingClient {
 public:
  StreamingClient(uint16_t port, const std::string& target) {
    thread_ = std::thread([this, port, target] {
      http::Client client;
      http::Request r;
      r.url = "http://127.0.0.1:" + std::to_string(port) + target;
      r.headers = {{"X-Byoc-Check-Key", kKey}, {"X-Byoc-Verify", "SUCCESS"}, {"X-Byoc-Serial", "0A1B"}};
      r.timeout = 15s;
      r.cancel = &cancel_;
      r.on_head = [this](int status, const std::vector<std::pair<std::string, std::string>>&) {
        status_ = status;
        head_ = true;
        return true;
      };
      r.on_body = [this](std::string_view) {
        pieces_ += 1;
        return true;
      };
      try {
        client.send(r);
      } catch (const std::exception& e) {
        std::lock_guard lock(mu_);
        error_ = e.what();
      }
      ended_at_ = Clock::now();
      ended_ = true;
    });
  }
  ~StreamingClient() {
    cancel_ = true;
    thread_.join();
  }

  bool head() const { return head_; }
  int status() const { return status_; }
  int pieces() const { return pieces_; }
  bool ended() const { return ended_; }
  Clock::time_point ended_at() const { return ended_at_; }
  std::string error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::atomic<bool> cancel_{false};
  std::atomic<bool> head_{false};
  std::atomic<int> status_{0};
  std::atomic<int> pieces_{0};
  std::atomic<bool> ended_{false};
  std::atomic<Clock::time_point> ended_at_{};
  std::mutex mu_;
  std::string error_;
  std::thread thread_;
};

class KubeSupportProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api.put({{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata", {{"name", "orders-s1-0"}, {"namespace", "byoc-services"}}},
             {"spec", {{"containers", json::array({{{"name", "clickhouse"}, {"image", "clickhouse"}}})}}}});
    start(options());
  }

  // The proxy's options as the agent sets them, the FakeKubeApi behind.
  agent::KubeSupportProxyOptions options() {
    agent::KubeSupportProxyOptions o;
    o.listen_host = "127.0.0.1";
    o.check_key = kKey;
    o.api = api.client_config();
    o.grant = [this](const std::string& serial) -> std::optional<agent::KubeSupportGrant> {
      const int64_t later = std::time(nullptr) + 3600;
      if (serial == "a1b" && !revoked) return agent::KubeSupportGrant{kGrant, "kubernetes-readonly", later};
      if (serial == "c2d") return agent::KubeSupportGrant{"acc-fedcba9876543210", "clickhouse-system", later};
      return std::nullopt;
    };
    o.audit = [this](const KubeAuditEntry& e) {
      std::lock_guard lock(mu);
      audited.push_back(e);
    };
    return o;
  }

  void start(agent::KubeSupportProxyOptions o) {
    proxy.reset();
    proxy = std::make_unique<agent::KubeSupportProxy>(std::move(o));
  }

  // The proxy with a StreamingKubeApi of `mode` behind it.
  void start_streaming(StreamingKubeApi::Mode mode, agent::KubeSupportProxyOptions o) {
    proxy.reset();
    upstream = std::make_unique<StreamingKubeApi>(mode);
    o.api = upstream->client_config();
    start(std::move(o));
  }

  // A request as nginx sends it: the gateway's key, the certificate's result and serial.
  http::Response send(const std::string& method, const std::string& target,
                      std::vector<std::pair<std::string, std::string>> headers = {}, const std::string& serial = "0A1B",
                      const std::string& key = kKey, const std::string& body = "") {
    http::Client client;
    http::Request r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(proxy->port()) + target;
    r.headers = {{"X-Byoc-Check-Key", key}, {"X-Byoc-Verify", "SUCCESS"}, {"X-Byoc-Serial", serial}};
    r.headers.insert(r.headers.end(), headers.begin(), headers.end());
    r.body = body;
    r.timeout = std::chrono::seconds(10);
    return client.send(r);
  }

  std::vector<KubeAuditEntry> audit() {
    std::lock_guard lock(mu);
    return audited;
  }

  FakeKubeApi api;
  std::unique_ptr<StreamingKubeApi> upstream;  // before proxy: outlives it
  std::atomic<bool> revoked{false};            // the grant of serial a1b is gone
  std::mutex mu;
  std::vector<KubeAuditEntry> audited;
  std::unique_ptr<agent::KubeSupportProxy> proxy;
};

TEST_F(KubeSupportProxyTest, AReadIsForwardedAsTheSupportUserWithTheGrantAndNothingOfTheClients) {
  api.clear_requests();
  auto answer = send("GET", "/api/v1/namespaces/byoc-services/pods",
                     {{"Accept", "application/json"},
                      {"Authorization", "Bearer stolen"},
                      {"Impersonate-User", "system:admin"},
                      {"Impersonate-Group", "system:masters"},
                      {"Impersonate-Extra-byoc-grant", "acc-1111111111111111"},
                      {"Impersonate-Uid", "0"}});
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(json::parse(answer.body)["items"][0]["metadata"]["name"], "orders-s1-0");
  EXPECT_EQ(answer.header("content-type"), "application/json");

  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& r = requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/v1/namespaces/byoc-services/pods");
  EXPECT_EQ(r.header("authorization"), std::string("Bearer ") + FakeKubeApi::kToken);  // the agent's own
  EXPECT_EQ(r.header("impersonate-user"), "byoc-support");
  EXPECT_EQ(r.header("impersonate-group"), "byoc:support-readonly");
  EXPECT_EQ(r.header("impersonate-extra-byoc-grant"), kGrant);
  EXPECT_EQ(r.header("impersonate-uid"), "");
  EXPECT_EQ(r.header("accept"), "application/json");
  for (const auto& [name, value] : r.headers) EXPECT_EQ(value.find("system:"), std::string::npos) << name;

  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "allowed");
  EXPECT_EQ(entries[0].verb, "list");
  EXPECT_EQ(entries[0].resource, "pods");
  EXPECT_EQ(entries[0].namespace_name, "byoc-services");
  EXPECT_EQ(entries[0].request_id, kGrant);
  EXPECT_EQ(entries[0].serial, "a1b");
  EXPECT_EQ(entries[0].status, 200);
}

TEST_F(KubeSupportProxyTest, ExecSecretsWritesAndTheUnknownNeverReachTheApi) {
  struct Case {
    std::string method, target, code;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/v1/namespaces/byoc-services/pods/orders-s1-0/exec?command=sh&stdin=true", "exec_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/pods/orders-s1-0/exec?command=sh", "exec_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/pods/orders-s1-0/attach", "exec_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/secrets", "secrets_refused", 403},
      {"GET", "/api/v1/secrets", "secrets_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/secrets/orders-credentials", "secrets_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/configmaps/orders-s1-config", "configmaps_refused", 403},
      {"DELETE", "/api/v1/namespaces/byoc-services/pods/orders-s1-0", "write_refused", 403},
      {"PATCH", "/apis/apps/v1/namespaces/byoc-services/statefulsets/orders-s1", "write_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/services/orders-endpoint:https/proxy", "proxy_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-system/serviceaccounts/byoc-agent/token", "token_refused", 403},
      {"GET", "/api/v1/namespaces/byoc-services/pods/%2e%2e/log", "unknown_request", 400},
  };
  api.clear_requests();
  for (const auto& c : cases) {
    auto answer = send(c.method, c.target);
    EXPECT_EQ(answer.status, c.status) << c.method << " " << c.target;
    EXPECT_EQ(json::parse(answer.body)["error"]["code"], c.code) << c.target;
  }
  // A GET with a body is no read either.
  auto with_body = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "0A1B", kKey, "{}");
  EXPECT_EQ(with_body.status, 403);
  EXPECT_EQ(json::parse(with_body.body)["error"]["code"], "write_refused");
  EXPECT_TRUE(api.requests().empty());

  auto entries = audit();
  ASSERT_EQ(entries.size(), cases.size() + 1);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(entries[i].decision, cases[i].code);
    EXPECT_EQ(entries[i].request_id, kGrant);
    EXPECT_EQ(entries[i].status, cases[i].status);
  }
  EXPECT_EQ(entries[0].verb, "create");
  EXPECT_EQ(entries[0].subresource, "exec");
  EXPECT_EQ(entries[0].name, "orders-s1-0");
  // Never a query value in the audit.
  for (const auto& e : entries) EXPECT_EQ(e.path.find("command"), std::string::npos);
}

TEST_F(KubeSupportProxyTest, OnlyOurGatewayWithAnActiveKubernetesGrantGetsThrough) {
  api.clear_requests();
  auto stranger = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "0A1B", std::string(64, 'f'));
  EXPECT_EQ(stranger.status, 401);
  auto no_grant = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "99");
  EXPECT_EQ(no_grant.status, 403);
  EXPECT_EQ(json::parse(no_grant.body)["error"]["code"], "grant_inactive");
  auto other_scope = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "C2D");
  EXPECT_EQ(other_scope.status, 403);
  EXPECT_EQ(json::parse(other_scope.body)["error"]["code"], "scope_mismatch");
  auto no_serial = send("GET", "/api/v1/namespaces/byoc-services/pods", {}, "");
  EXPECT_EQ(json::parse(no_serial.body)["error"]["code"], "no_certificate");
  EXPECT_TRUE(api.requests().empty());
  auto entries = audit();
  ASSERT_EQ(entries.size(), 3u);  // the stranger is not ours to audit
  EXPECT_EQ(entries[0].decision, "grant_inactive");
  EXPECT_EQ(entries[1].decision, "scope_mismatch");
  EXPECT_EQ(entries[1].request_id, "acc-fedcba9876543210");
}

TEST_F(KubeSupportProxyTest, AWatchIsStreamedAndTheApisRefusalsPassAsTheyAre) {
  const std::string version = api.resource_version();
  api.put({{"apiVersion", "v1"},
           {"kind", "Pod"},
           {"metadata", {{"name", "orders-s1-1"}, {"namespace", "byoc-services"}}},
           {"spec", {{"containers", json::array({{{"name", "clickhouse"}, {"image", "clickhouse"}}})}}}});
  auto watch = send("GET", "/api/v1/namespaces/byoc-services/pods?watch=true&resourceVersion=" + version);
  ASSERT_EQ(watch.status, 200);
  EXPECT_NE(watch.body.find("\"orders-s1-1\""), std::string::npos) << watch.body;
  EXPECT_EQ(audit().back().verb, "watch");

  auto missing = send("GET", "/api/v1/namespaces/byoc-services/pods/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["reason"], "NotFound");
  EXPECT_EQ(audit().back().decision, "allowed");
  EXPECT_EQ(audit().back().status, 404);

  auto discovery = send("GET", "/version");
  EXPECT_EQ(audit().back().path, "/version");
}

TEST_F(KubeSupportProxyTest, AnIdleConnectionIsClosedAfterTheReadTimeout) {
  auto o = options();
  o.read_timeout = 300ms;
  start(o);
  RawConnection idle(proxy->port());
  const auto start_time = Clock::now();
  ASSERT_TRUE(idle.ends_within(3s)) << "an idle connection is kept";
  EXPECT_GE(Clock::now() - start_time, 250ms);
  EXPECT_EQ(idle.read(0ms), "");  // nothing to answer: it asked nothing

  // The deadline is for the whole head, not for each piece of it.
  RawConnection trickling(proxy->port());
  const auto trickle_start = Clock::now();
  trickling.send("GET /version HTTP/1.1\r\n");
  for (int i = 0; i < 20 && !trickling.ended(); ++i) {
    trickling.send("X-Filler-" + std::to_string(i) + ": 1\r\n");
    trickling.read(100ms);
  }
  EXPECT_TRUE(trickling.ended());
  EXPECT_LT(Clock::now() - trickle_start, 1500ms);
  EXPECT_TRUE(audit().empty());
}

TEST_F(KubeSupportProxyTest, IdleConnectionsDontKeepARealRequestOutOnceTheyTimeOut) {
  auto o = options();
  o.max_connections = 2;
  o.read_timeout = 1s;
  start(o);
  RawConnection idle1(proxy->port());
  RawConnection idle2(proxy->port());
  // They hold both places meanwhile (the proxy accepts in order).
  RawConnection third(proxy->port());
  third.send(raw_request("GET", "/version"));
  EXPECT_NE(third.read(3s, "\r\n\r\n").find(" 503 "), std::string::npos);
  ASSERT_TRUE(idle1.ends_within(3s));
  ASSERT_TRUE(idle2.ends_within(3s));
  auto answer = send("GET", "/api/v1/namespaces/byoc-services/pods");
  EXPECT_EQ(answer.status, 200) << answer.body;
}

TEST_F(KubeSupportProxyTest, AQuietWatchIsAnsweredAndAuditedWhenItsHeadComes) {
  auto o = options();
  o.max_answer_time = 2s;
  start_streaming(StreamingKubeApi::Mode::kQuiet, o);
  StreamingClient watch(proxy->port(), kWatchPods);
  ASSERT_TRUE(eventually([&] { return watch.head(); }, 3s)) << "the head waits for a body that doesn't come";
  EXPECT_EQ(watch.status(), 200);
  EXPECT_FALSE(watch.ended());
  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);  // now, not when the watch ends
  EXPECT_EQ(entries[0].decision, "allowed");
  EXPECT_EQ(entries[0].status, 200);
  EXPECT_EQ(entries[0].verb, "watch");
  EXPECT_EQ(entries[0].request_id, kGrant);
  // max_answer_time cuts it, without a body ever: still the one "allowed".
  ASSERT_TRUE(eventually([&] { return watch.ended(); }, 5s));
  EXPECT_EQ(watch.pieces(), 0);
  EXPECT_NE(watch.error(), "");  // no last chunk: the client knows it was cut
  entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "allowed");
}

TEST_F(KubeSupportProxyTest, ARevokedGrantEndsItsStreamWithinAboutASecond) {
  start_streaming(StreamingKubeApi::Mode::kTrickle, options());
  StreamingClient watch(proxy->port(), kWatchPods);
  ASSERT_TRUE(eventually([&] { return watch.pieces() >= 2; }, 5s));
  const auto revoked_at = Clock::now();
  revoked = true;
  ASSERT_TRUE(eventually([&] { return watch.ended(); }, 5s)) << "the stream outlives its grant";
  EXPECT_LT(watch.ended_at() - revoked_at, 2500ms);
  EXPECT_NE(watch.error(), "");
  EXPECT_TRUE(eventually([&] { return upstream->hung_up() == 1; }, 3s)) << "the upstream request goes on";
  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "allowed");
}

TEST_F(KubeSupportProxyTest, AClientThatHangsUpMidWatchFreesItsPlace) {
  auto o = options();
  o.max_connections = 1;
  start_streaming(StreamingKubeApi::Mode::kQuiet, o);
  {
    RawConnection watch(proxy->port());
    watch.send(raw_request("GET", kWatchPods));
    ASSERT_NE(watch.read(3s, "\r\n\r\n").find(" 200 "), std::string::npos);
  }  // hangs up: nothing else would tell the proxy, the API server says nothing
  const auto hung_up_at = Clock::now();
  ASSERT_TRUE(eventually([&] { return upstream->hung_up() == 1; }, 3s)) << "the proxy kept the watch";
  EXPECT_LT(Clock::now() - hung_up_at, 2500ms);
  // Its place is free again.
  std::string head;
  eventually(
      [&] {
        RawConnection next(proxy->port());
        next.send(raw_request("GET", kWatchPods));
        head = next.read(3s, "\r\n\r\n");
        return head.find(" 200 ") != std::string::npos;
      },
      3s);
  EXPECT_NE(head.find(" 200 "), std::string::npos) << head;
}

TEST_F(KubeSupportProxyTest, AClientThatReadsNothingIsEndedAfterTheWriteTimeout) {
  auto o = options();
  o.write_timeout = 500ms;
  start_streaming(StreamingKubeApi::Mode::kFlood, o);
  RawConnection reads_nothing(proxy->port(), 4096);
  reads_nothing.send(raw_request("GET", kWatchPods));
  const auto sent_at = Clock::now();
  ASSERT_TRUE(eventually([&] { return upstream->hung_up() == 1; }, 5s)) << "a write waits on the client for ever";
  EXPECT_LT(Clock::now() - sent_at, 3s);
  EXPECT_TRUE(reads_nothing.ends_within(3s));
  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "allowed");
}

TEST_F(KubeSupportProxyTest, AGrantRevokedBeforeTheApiAnswersIsRefused) {
  start_streaming(StreamingKubeApi::Mode::kSilent, options());
  std::jthread revoke([&] {  // joined however send() ends
    eventually([&] { return upstream->requests() == 1; }, 5s);
    revoked = true;
  });
  const auto start_time = Clock::now();
  auto answer = send("GET", kWatchPods);
  revoke.join();
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(json::parse(answer.body)["error"]["code"], "grant_inactive");
  EXPECT_LT(Clock::now() - start_time, 3s);
  EXPECT_TRUE(eventually([&] { return upstream->hung_up() == 1; }, 3s));
  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "grant_inactive");
  EXPECT_EQ(entries[0].status, 403);
  EXPECT_EQ(entries[0].verb, "watch");
}

TEST_F(KubeSupportProxyTest, AnApiThatNeverAnswersIs502AtTheAnswersBound) {
  auto o = options();
  o.max_answer_time = 1s;
  start_streaming(StreamingKubeApi::Mode::kSilent, o);
  auto answer = send("GET", kWatchPods);
  EXPECT_EQ(answer.status, 502);
  EXPECT_EQ(json::parse(answer.body)["error"]["code"], "upstream_unavailable");
  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "upstream_unavailable");
  EXPECT_EQ(entries[0].status, 502);
}

TEST_F(KubeSupportProxyTest, WithoutATokenForTheApiTheAnswerIs502AndAudited) {
  auto o = options();
  o.api.token = []() -> std::string { throw std::runtime_error("the token provider failed"); };
  start(o);
  api.clear_requests();
  auto answer = send("GET", "/api/v1/namespaces/byoc-services/pods");
  EXPECT_EQ(answer.status, 502);
  EXPECT_EQ(json::parse(answer.body)["error"]["code"], "upstream_unavailable");
  EXPECT_TRUE(api.requests().empty());
  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].decision, "upstream_unavailable");
  EXPECT_EQ(entries[0].status, 502);
  EXPECT_EQ(entries[0].verb, "list");
}

TEST_F(KubeSupportProxyTest, AHeadIsForwardedAsAHeadAndAnsweredWithoutABody) {
  api.clear_requests();
  RawConnection head(proxy->port());
  head.send(raw_request("HEAD", "/api/v1/namespaces/byoc-services/pods/orders-s1-0"));
  ASSERT_TRUE(head.ends_within(5s));
  const std::string answer = head.read(0ms);
  auto end = answer.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << answer;
  EXPECT_EQ(answer.substr(end + 4), "") << "a body after the head of a HEAD";
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "HEAD");
  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].verb, "get");
  EXPECT_EQ(entries[0].decision, "allowed");
  // The status is the API server's, whatever it is.
  EXPECT_NE(answer.find(" " + std::to_string(entries[0].status) + " "), std::string::npos) << answer;

  // A refusal of a HEAD has no body either.
  RawConnection refused(proxy->port());
  refused.send(raw_request("HEAD", "/api/v1/namespaces/byoc-services/secrets"));
  ASSERT_TRUE(refused.ends_within(5s));
  const std::string refusal = refused.read(0ms);
  EXPECT_NE(refusal.find(" 403 "), std::string::npos) << refusal;
  EXPECT_EQ(refusal.substr(refusal.find("\r\n\r\n") + 4), "");
}

TEST_F(KubeSupportProxyTest, StopEndsEveryConnection) {
  start_streaming(StreamingKubeApi::Mode::kQuiet, options());
  // One idle, one halfway through its head, one watching a quiet watch.
  RawConnection idle(proxy->port());
  RawConnection half(proxy->port());
  half.send("GET /api/v1/pods HTTP/1.1\r\nX-Byoc-Check-Key: ");
  RawConnection watch(proxy->port());
  watch.send(raw_request("GET", kWatchPods));
  ASSERT_NE(watch.read(3s, "\r\n\r\n").find(" 200 "), std::string::npos);
  ASSERT_EQ(upstream->requests(), 1);

  auto took = timed(5s, "stop()", [&] { proxy->stop(); });
  EXPECT_LT(took, 1500ms);
  EXPECT_TRUE(idle.ends_within(500ms));
  EXPECT_TRUE(half.ends_within(500ms));
  EXPECT_TRUE(watch.ends_within(500ms));
  EXPECT_TRUE(eventually([&] { return upstream->hung_up() == 1; }, 2s)) << "the upstream request outlives stop()";

  proxy->stop();  // again: nothing
  http::Client client;
  http::Request r;
  r.url = "http://127.0.0.1:" + std::to_string(proxy->port()) + "/version";
  r.timeout = std::chrono::seconds(2);
  EXPECT_THROW(client.send(r), Error);
}

}  // namespace
}  // namespace byoc::testing
