// cloud/aws/transport.h and imds.h against real local servers: the libcurl
// transport over HTTPS trusting exactly the AWS_CA_BUNDLE (a certificate from
// another CA fails), not following redirects, capping answers, bounding time;
// and IMDSv2 against a plain-HTTP metadata service that refuses requests
// without a session token. Servers listen on free loopback ports.
#include "cloud/aws/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/error.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/imds.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {

using byoc::testing::error_code;
using byoc::testing::TempDir;

struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// The full answer to send, or nullopt to send nothing and hold the
// connection until the client gives up.
using Handler = std::function<std::optional<std::string>(const SeenRequest&)>;

std::string reply(int status, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

// A one-connection-at-a-time HTTP/1.1 server, TLS when given a certificate.
// Each answer closes its connection.
class TinyServer {
 public:
  explicit TinyServer(Handler handler, const crypto::KeyedCertificate* tls = nullptr) : handler_(std::move(handler)) {
    ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-answer must not kill the test
    if (tls) ctx_ = make_context(*tls);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TinyServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
    if (ctx_) SSL_CTX_free(ctx_);
  }

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return std::string(ctx_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  static SSL_CTX* make_context(const crypto::KeyedCertificate& tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    BIO* cert_bio = BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    BIO* key_bio = BIO_new_mem_buf(tls.key_pem.data(), static_cast<int>(tls.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    bool ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cert_bio);
    BIO_free(key_bio);
    if (!ok) throw std::runtime_error("bad test certificate");
    return ctx;
  }

  void run() {
    while (!stopping_) {
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        if (stopping_) return;
        continue;
      }
      // A client that stalls can't hold the server (or the test's end) for long.
      timeval tv{5, 0};
      ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      serve(client);
      ::close(client);
    }
  }

  void serve(int client) {
    SSL* ssl = nullptr;
    if (ctx_) {
      ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, client);
      if (SSL_accept(ssl) != 1) {  // e.g. the client refused our certificate
        SSL_free(ssl);
        ERR_clear_error();
        return;
      }
    }
    auto read_some = [&](char* buf, int n) -> int {
      return ssl ? SSL_read(ssl, buf, n) : static_cast<int>(::recv(client, buf, n, 0));
    };
    auto write_all = [&](const std::string& data) {
      size_t sent = 0;
      while (sent < data.size()) {
        int chunk = static_cast<int>(std::min<size_t>(data.size() - sent, 1 << 16));
        int n = ssl ? SSL_write(ssl, data.data() + sent, chunk)
                    : static_cast<int>(::send(client, data.data() + sent, chunk, MSG_NOSIGNAL));
        if (n <= 0) return;
        sent += n;
      }
    };
    std::string in;
    char buf[4096];
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      int n = read_some(buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, n);
    }
    if (head_end != std::string::npos) {
      SeenRequest r = parse_head(in.substr(0, head_end));
      size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
      r.body = in.substr(head_end + 4);
      while (r.body.size() < length) {
        int n = read_some(buf, sizeof buf);
        if (n <= 0) break;
        r.body.append(buf, n);
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(r);
      }
      if (auto answer = handler_(r)) {
        write_all(*answer);
      } else {
        while (read_some(buf, sizeof buf) > 0) {  // hold until the client hangs up
        }
      }
    }
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
      ERR_clear_error();
    }
  }

  static SeenRequest parse_head(const std::string& head) {
    SeenRequest r;
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    r.method = request_line.substr(0, sp1);
    r.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[name] = value;
      }
      pos = end + 2;
    }
    return r;
  }

  Handler handler_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<SeenRequest> requests_;
};

crypto::KeyedCertificate make_ca(const std::string& name) {
  crypto::CertificateSpec spec;
  spec.common_name = name;
  spec.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  spec.not_after = std::chrono::system_clock::now() + std::chrono::hours(24);
  return crypto::make_ca(spec);
}

crypto::KeyedCertificate loopback_certificate(const crypto::KeyedCertificate& ca) {
  crypto::CertificateSpec spec;
  spec.common_name = "127.0.0.1";
  spec.ip_addresses = {"127.0.0.1"};
  spec.dns_names = {"localhost"};
  spec.server_auth = true;
  spec.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  spec.not_after = std::chrono::system_clock::now() + std::chrono::hours(24);
  return crypto::issue(ca, spec);
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(bundle_path()) << trusted_ca.cert_pem;
  }
  std::string bundle_path() const { return (dir.path() / "ca-bundle.pem").string(); }

  TempDir dir{"aws-transport"};
  crypto::KeyedCertificate trusted_ca = make_ca("trusted test CA");
  crypto::KeyedCertificate server_cert = loopback_certificate(trusted_ca);
};

TEST_F(TransportTest, HttpsTrustingTheBundle) {
  TinyServer server(
      [](const SeenRequest& r) {
        return reply(200, "echo:" + r.body, "X-Amzn-RequestId: req-1\r\nContent-Type: application/x-amz-json-1.1\r\n");
      },
      &server_cert);
  auto transport = make_curl_transport(read_ca_bundle(bundle_path()));
  TransportRequest request{"POST", server.url("/a/b?Action=Call&x=%2F"),
                           {{"Content-Type", "application/x-amz-json-1.1"},
                            {"X-Amz-Target", "Service.Operation"},
                            {"X-Amz-Date", "20260101T000000Z"}},
                           R"({"k":"v"})",
                           std::chrono::seconds(10)};
  HttpResponse response = transport->send(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"(echo:{"k":"v"})");
  EXPECT_EQ(header_value(response.headers, "x-amzn-requestid"), "req-1");
  // Header names as received.
  bool as_received = std::any_of(response.headers.begin(), response.headers.end(),
                                 [](const auto& h) { return h.first == "X-Amzn-RequestId"; });
  EXPECT_TRUE(as_received);

  ASSERT_EQ(server.requests().size(), 1u);
  SeenRequest seen = server.requests()[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/a/b?Action=Call&x=%2F");
  EXPECT_EQ(seen.header("x-amz-target"), "Service.Operation");
  EXPECT_EQ(seen.header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(seen.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.headers.count("expect"), 0u);
  EXPECT_EQ(seen.headers.count("accept"), 0u);  // nothing but what the request (and its signature) holds

  // The same transport again (a fresh connection: the server closed the last).
  EXPECT_EQ(transport->send({"GET", server.url("/"), {}, "", std::chrono::seconds(10)}).status, 200);
  EXPECT_EQ(server.requests()[1].headers.count("content-type"), 0u);
}

TEST_F(TransportTest, CertificateFromAnotherCaIsRefused) {
  crypto::KeyedCertificate other_ca = make_ca("untrusted test CA");
  crypto::KeyedCertificate other_cert = loopback_certificate(other_ca);
  TinyServer server([](const SeenRequest&) { return reply(200, "secret answer"); }, &other_cert);
  auto transport = make_curl_transport(read_ca_bundle(bundle_path()));
  try {
    transport->send({"GET", server.url("/"), {}, "", std::chrono::seconds(10)});
    FAIL() << "an untrusted certificate was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_EQ(e.code(), "aws_unreachable");
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(TransportTest, SystemStoreDoesNotTrustAPrivateCa) {
  TinyServer server([](const SeenRequest&) { return reply(200, "ok"); }, &server_cert);
  auto transport = make_curl_transport("");
  try {
    transport->send({"GET", server.url("/"), {}, "", std::chrono::seconds(10)});
    FAIL() << "the system store trusted a private test CA";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
  }
}

TEST_F(TransportTest, RedirectsAreAnswersNotFollowed) {
  TinyServer server([](const SeenRequest&) { return reply(307, "", "Location: http://127.0.0.1:1/elsewhere\r\n"); });
  auto transport = make_curl_transport();
  HttpResponse response = transport->send({"GET", server.url("/start"), {}, "", std::chrono::seconds(10)});
  EXPECT_EQ(response.status, 307);
  EXPECT_EQ(header_value(response.headers, "location"), "http://127.0.0.1:1/elsewhere");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(TransportTest, AnswersAreCapped) {
  TinyServer server([](const SeenRequest& r) {
    size_t size = r.target == "/big" ? kMaxResponseBytes + 1 : kMaxResponseBytes;
    return reply(200, std::string(size, 'x'));
  });
  auto transport = make_curl_transport();
  EXPECT_EQ(transport->send({"GET", server.url("/fits"), {}, "", std::chrono::seconds(20)}).body.size(),
            kMaxResponseBytes);
  try {
    transport->send({"GET", server.url("/big"), {}, "", std::chrono::seconds(20)});
    FAIL() << "an answer over the cap was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_EQ(e.code(), "aws_response_too_large");
  }
}

TEST_F(TransportTest, RequestsAreBoundedInTime) {
  TinyServer server([](const SeenRequest&) { return std::nullopt; });  // never answers
  auto transport = make_curl_transport();
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(error_code([&] { transport->send({"GET", server.url("/"), {}, "", std::chrono::milliseconds(300)}); }),
            "aws_unreachable");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(TransportTest, RefusedConnectionIsUnavailable) {
  // Bound but not listening: connections to it are refused.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  auto transport = make_curl_transport();
  EXPECT_EQ(error_code([&] { transport->send({"GET", url, {}, "", std::chrono::seconds(5)}); }), "aws_unreachable");
  // Only http and https are spoken.
  EXPECT_EQ(error_code([&] { transport->send({"GET", "file:///etc/passwd", {}, "", std::chrono::seconds(5)}); }),
            "aws_unreachable");
  ::close(fd);
}

// A CR or LF would end a header early and let the rest be read as more
// headers: nothing is sent. Also guards tokens put in headers (IMDS, container).
TEST_F(TransportTest, HeadersWithLineBreaksOrNulAreRefused) {
  TinyServer server([](const SeenRequest&) { return reply(200, "ok"); });
  auto transport = make_curl_transport();
  std::vector<Headers> bad = {
      {{"X-Token", "abc\r\nX-Injected: 1"}},
      {{"X-Token", "abc\nmore"}},
      {{"X-Token", std::string("abc\0def", 7)}},
      {{"X-Bad\r\nX-Injected", "1"}},
      {{"X-Bad: 1", "2"}},
      {{"", "value"}},
  };
  for (const Headers& headers : bad) {
    try {
      transport->send({"GET", server.url("/"), headers, "", std::chrono::seconds(5)});
      ADD_FAILURE() << "a header with a line break was sent";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
      EXPECT_EQ(e.code(), "aws_header_invalid");
      EXPECT_EQ(std::string(e.what()).find("abc"), std::string::npos);  // the value is never shown
    }
  }
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(transport->send({"GET", server.url("/"), {{"X-Token", "abc"}}, "", std::chrono::seconds(5)}).status, 200);
}

TEST_F(TransportTest, ResponseHeadersAreCapped) {
  TinyServer server([](const SeenRequest& r) {
    size_t lines = r.target == "/big" ? 80 : 40;  // about 1 KiB each
    std::string extra;
    for (size_t i = 0; i < lines; ++i) extra += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'f') + "\r\n";
    return reply(200, "ok", extra);
  });
  auto transport = make_curl_transport();
  EXPECT_EQ(transport->send({"GET", server.url("/fits"), {}, "", std::chrono::seconds(10)}).body, "ok");
  try {
    transport->send({"GET", server.url("/big"), {}, "", std::chrono::seconds(10)});
    FAIL() << "headers over the cap were accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_EQ(e.code(), "aws_response_too_large");
  }
}

// One transport is shared by the credential providers and clients of many
// threads: concurrent calls must each get their own answer.
TEST_F(TransportTest, SharedBetweenThreads) {
  TinyServer server([](const SeenRequest& r) { return reply(200, "answer to " + r.target); });
  auto transport = make_curl_transport();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        try {
          HttpResponse r = transport->send({"GET", server.url(path), {{"X-Call", path}}, "", std::chrono::seconds(20)});
          if (r.status != 200 || r.body != "answer to " + path) ++wrong;
        } catch (const Error&) {
          ++wrong;
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  auto seen = server.requests();
  EXPECT_EQ(seen.size(), 90u);
  for (const auto& r : seen) EXPECT_EQ(r.header("x-call"), r.target);
}

TEST_F(TransportTest, ReadCaBundle) {
  EXPECT_EQ(read_ca_bundle(std::nullopt), "");
  EXPECT_EQ(read_ca_bundle(""), "");
  EXPECT_EQ(read_ca_bundle(bundle_path()), trusted_ca.cert_pem);
  for (const std::string& bad : {(dir.path() / "missing.pem").string(), dir.path().string()}) {
    try {
      read_ca_bundle(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "aws_ca_bundle_invalid");
      EXPECT_EQ(e.field(), "AWS_CA_BUNDLE");
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos);
    }
  }
  std::ofstream(dir.path() / "not.pem") << "hello";
  EXPECT_EQ(error_code([&] { read_ca_bundle((dir.path() / "not.pem").string()); }), "aws_ca_bundle_invalid");
}

// An instance metadata service that requires IMDSv2, as byoc's instances do.
std::optional<std::string> imds_v2(const SeenRequest& r) {
  if (r.method == "PUT" && r.target == "/latest/api/token") {
    if (r.header("x-aws-ec2-metadata-token-ttl-seconds").empty()) return reply(400, "");
    return reply(200, "v2-session-token");
  }
  if (r.header("x-aws-ec2-metadata-token") != "v2-session-token") return reply(401, "");
  if (r.method == "GET" && r.target == "/latest/meta-data/iam/security-credentials/") return reply(200, "byoc-node");
  if (r.method == "GET" && r.target == "/latest/meta-data/iam/security-credentials/byoc-node")
    return reply(200, R"({"Code":"Success","LastUpdated":"2026-12-01T00:00:00Z","Type":"AWS-HMAC",)"
                      R"("AccessKeyId":"ASIAINSTANCE","SecretAccessKey":"instance-secret",)"
                      R"("Token":"instance-token","Expiration":"2026-12-01T06:00:00Z"})");
  return reply(404, "");
}

TEST(ImdsV2, TokenFirstThenRoleThenCredentials) {
  TinyServer server(imds_v2);
  // A GET without the token is refused.
  auto transport = make_curl_transport();
  EXPECT_EQ(transport->send({"GET", server.url("/latest/meta-data/iam/security-credentials/"), {}, "",
                             std::chrono::seconds(1)})
                .status,
            401);

  auto provider = make_imds_provider(*transport, server.url(""));
  Credentials c = provider->credentials();
  EXPECT_EQ(c.access_key_id, "ASIAINSTANCE");
  EXPECT_EQ(c.secret_access_key, "instance-secret");
  EXPECT_EQ(c.session_token, "instance-token");
  ASSERT_TRUE(c.expiration);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*c.expiration), *parse_rfc3339("2026-12-01T06:00:00Z"));

  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].method, "PUT");
  EXPECT_EQ(seen[1].target, "/latest/api/token");
  EXPECT_EQ(seen[1].header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(seen[2].header("x-aws-ec2-metadata-token"), "v2-session-token");
  EXPECT_EQ(seen[3].target, "/latest/meta-data/iam/security-credentials/byoc-node");
  EXPECT_EQ(seen[3].header("x-aws-ec2-metadata-token"), "v2-session-token");
}

TEST(ImdsV2, ThroughTheDefaultChain) {
  TinyServer server(imds_v2);
  TempDir home("aws-home");
  ManualClock clock(*parse_rfc3339("2026-12-01T00:00:00Z"));  // the credentials last six hours more
  auto transport = make_curl_transport();
  std::map<std::string, std::string> vars = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("")}};
  ChainOptions options;
  options.env = [&vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  options.home = home.path().string();
  options.imds = transport.get();
  options.clock = &clock;
  auto chain = default_credentials_chain(options);
  EXPECT_EQ(chain->credentials().access_key_id, "ASIAINSTANCE");
  EXPECT_EQ(chain->credentials().access_key_id, "ASIAINSTANCE");  // cached: no new requests
  EXPECT_EQ(server.requests().size(), 3u);
  clock.advance(std::chrono::hours(5) + std::chrono::minutes(55));  // 5 minutes before expiry
  EXPECT_EQ(chain->credentials().access_key_id, "ASIAINSTANCE");
  EXPECT_EQ(server.requests().size(), 6u);  // refreshed: token, role, credentials again
}

TEST(ImdsV2, NoFallbackToImdsV1) {
  // A service that refuses the token PUT (IMDSv1 only, or a hop limit hit).
  TinyServer server([](const SeenRequest& r) -> std::optional<std::string> {
    if (r.method == "PUT") return reply(403, "");
    return reply(200, "byoc-node");
  });
  auto transport = make_curl_transport();
  auto provider = make_imds_provider(*transport, server.url(""));
  try {
    provider->credentials();
    FAIL() << "credentials without IMDSv2";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_EQ(e.code(), "aws_imds_unavailable");
    EXPECT_NE(std::string(e.what()).find("IMDSv1"), std::string::npos);
  }
  for (const auto& r : server.requests()) EXPECT_EQ(r.method, "PUT");
}

// The container credentials endpoint (EKS Pod Identity, ECS with a full URI)
// over plain HTTP on loopback, through the default chain: the token file's
// content as Authorization, read again at each refresh; IMDS never asked.
TEST(ContainerCredentials, FullUriWithTokenFileThroughTheChain) {
  std::atomic<int> imds_calls{0};
  TinyServer imds([&](const SeenRequest&) {
    ++imds_calls;
    return reply(200, "");
  });
  TinyServer agent([](const SeenRequest& r) -> std::optional<std::string> {
    if (r.method != "GET" || r.target != "/v1/credentials") return reply(404, "");
    if (r.header("authorization") != "pod-token-1" && r.header("authorization") != "pod-token-2")
      return reply(401, R"({"Message":"bad token"})");
    return reply(200, R"({"AccessKeyId":"ASIAPOD","SecretAccessKey":"pod-secret","Token":"pod-session",)"
                      R"("AccountId":"123456789012","Expiration":"2026-12-01T06:00:00Z"})");
  });
  TempDir home("aws-home");
  std::string token_file = (home.path() / "eks-pod-identity-token").string();
  std::ofstream(token_file) << "pod-token-1";
  ManualClock clock(*parse_rfc3339("2026-12-01T05:00:00Z"));
  auto transport = make_curl_transport();
  std::map<std::string, std::string> vars = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url("")},
                                             {"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url("/v1/credentials")},
                                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file}};
  ChainOptions options;
  options.env = [&vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  options.home = home.path().string();
  options.imds = transport.get();
  options.clock = &clock;
  auto chain = default_credentials_chain(options);
  Credentials c = chain->credentials();
  EXPECT_EQ(c.access_key_id, "ASIAPOD");
  EXPECT_EQ(c.secret_access_key, "pod-secret");
  EXPECT_EQ(c.session_token, "pod-session");
  ASSERT_TRUE(c.expiration);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*c.expiration), *parse_rfc3339("2026-12-01T06:00:00Z"));
  ASSERT_EQ(agent.requests().size(), 1u);
  EXPECT_EQ(agent.requests()[0].header("authorization"), "pod-token-1");

  std::ofstream(token_file) << "pod-token-2\n";
  clock.advance(std::chrono::minutes(56));
  EXPECT_EQ(chain->credentials().access_key_id, "ASIAPOD");
  ASSERT_EQ(agent.requests().size(), 2u);
  EXPECT_EQ(agent.requests()[1].header("authorization"), "pod-token-2");
  EXPECT_EQ(imds_calls, 0);

  // A token the agent refuses is an error naming the status, never the token.
  std::ofstream(token_file) << "wrong-token";
  auto provider = make_container_provider(*transport, options.env);
  try {
    provider->credentials();
    FAIL() << "a refused token gave credentials";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "aws_container_credentials_unavailable");
    EXPECT_NE(std::string(e.what()).find("401"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-token"), std::string::npos) << e.what();
  }
}

TEST(ImdsV2, UnreachableServiceIsUnavailable) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto transport = make_curl_transport();
  auto provider = make_imds_provider(*transport, "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  EXPECT_EQ(error_code([&] { provider->credentials(); }), "aws_imds_unavailable");
  ::close(fd);
}

}  // namespace
}  // namespace byoc::aws
