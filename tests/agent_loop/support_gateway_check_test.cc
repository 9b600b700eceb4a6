// The support gateway's check: the pure judge for every reason (certificate
// first, then credentials however they are encoded, then the grant), serial
// normalization, and the server over loopback as nginx will call it: 204
// with the serial to admit, 403 with the reason (counted) to refuse, and
// 401/400/404/405 (never counted) for anything not from our nginx, within
// its connection, size and time limits.
#include "agent/support_gateway_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/crypto.h"
#include "base/error.h"
#include "model/protocol.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
using namespace std::chrono_literals;

// ---- The judge ----

GatewayVerdict judge(const std::string& verify, const std::string& uri = "/?query=SELECT%201",
                     bool credentials = false, bool refused = false, const std::string& serial = "0A1B",
                     bool issued_here = true) {
  return judge_gateway_request({refused, verify, serial, uri, credentials, issued_here},
                               [](const std::string& s) { return s == "a1b" ? "clickhouse-system" : ""; });
}

TEST(GatewayJudge, AGrantedVerifiedCertificateWithoutCredentialsIsAdmitted) {
  auto v = judge("SUCCESS");
  EXPECT_TRUE(v.admit);
  EXPECT_EQ(v.reason, "");
  EXPECT_EQ(v.serial, "a1b");
}

// X-Byoc-Verify values (nginx: "FAILED:" + OpenSSL's text) and their reasons.
const std::vector<std::pair<std::string, std::string>> kVerifyCases = {
    {"SUCCESS", ""},
    {"NONE", "no_certificate"},
    {"", "no_certificate"},
    {"FAILED:certificate has expired", "certificate_expired"},
    {"FAILED:certificate is not yet valid", "certificate_not_yet_valid"},
    {"FAILED:certificate revoked", "certificate_revoked"},
    {"FAILED:CRL has expired", "crl_stale"},
    {"FAILED:CRL is not yet valid", "crl_stale"},
    {"FAILED:unable to get certificate CRL", "crl_stale"},
    {"FAILED:unable to get local issuer certificate", "certificate_untrusted"},
    {"FAILED:self-signed certificate", "certificate_untrusted"},
    {"FAILED:certificate signature failure", "certificate_untrusted"},
    {"FAILED:", "certificate_untrusted"},
    {"success", "certificate_untrusted"},
    {"garbage", "certificate_untrusted"},
};

TEST(GatewayJudge, EachVerifyResultMapsToItsReason) {
  const auto& codes = model::gateway_denial_codes();
  for (const auto& [verify, reason] : kVerifyCases) {
    EXPECT_EQ(verify_denial_reason(verify), reason) << verify;
    if (reason.empty()) continue;
    EXPECT_NE(std::find(codes.begin(), codes.end(), reason), codes.end()) << reason;
  }
}

TEST(GatewayJudge, RefusedPathAlwaysRefusesWithTheCertificatesReason) {
  for (const auto& [verify, reason] : kVerifyCases) {
    auto v = judge(verify, "/?user=x", true, /*refused=*/true);
    EXPECT_FALSE(v.admit) << verify;
    // nginx never sends SUCCESS there: refused all the same.
    EXPECT_EQ(v.reason, reason.empty() ? "certificate_untrusted" : reason) << verify;
  }
}

TEST(GatewayJudge, CheckPathRefusesAnyVerifyButSuccess) {
  EXPECT_EQ(judge("FAILED:certificate revoked").reason, "certificate_revoked");
  EXPECT_EQ(judge("NONE", "/", false, false, "").reason, "no_certificate");
}

TEST(GatewayJudge, CertificateComesBeforeCredentialsBeforeGrant) {
  EXPECT_EQ(judge("FAILED:certificate has expired", "/?user=x", true).reason, "certificate_expired");
  // Not granted and credentials: the credentials are named.
  EXPECT_EQ(judge("SUCCESS", "/?password=x", false, false, "ff").reason, "credentials_supplied");
  EXPECT_EQ(judge("SUCCESS", "/", false, false, "ff").reason, "grant_inactive");
}

TEST(GatewayJudge, ACertificateTheSupportCaDidNotSignNamesNobody) {
  // Anyone can make an expired (or revoked-looking) certificate bearing an
  // engineer's serial under a CA of their own.
  for (const char* verify : {"FAILED:certificate has expired", "FAILED:certificate is not yet valid",
                             "FAILED:certificate revoked", "FAILED:CRL has expired"}) {
    auto stranger = judge(verify, "/", false, /*refused=*/true, "0A1B", /*issued_here=*/false);
    EXPECT_EQ(stranger.reason, "certificate_untrusted") << verify;
    EXPECT_EQ(stranger.serial, "") << verify;
    EXPECT_NE(judge(verify, "/", false, true, "0A1B", true).reason, "certificate_untrusted") << verify;
  }
  EXPECT_EQ(judge("NONE", "/", false, true, "0A1B", false).reason, "no_certificate");
  EXPECT_EQ(judge("NONE", "/", false, true, "0A1B", false).serial, "");
  // A verified one reached /check through our CA: nothing more to prove.
  EXPECT_TRUE(judge("SUCCESS", "/", false, false, "0A1B", false).admit);
}

TEST(GatewayJudge, CredentialsHeaderRefuses) {
  EXPECT_EQ(judge("SUCCESS", "/", true).reason, "credentials_supplied");
}

TEST(GatewayJudge, CredentialsInTheQueryAreFoundHoweverEncoded) {
  for (const std::string uri : {"/?user=x", "/?query=1&user=x", "/?us%65r=x", "/?%75%73%65%72=x", "/?PASSWORD=x",
                                "/?Quota_Key=k", "/?quota%5Fkey=k", "/?password", "/?a=1&&user",
                                "/?user=", "/play?x=1&pAsSwOrD=2",
                                // undecodable: fail closed
                                "/?query=%zz", "/?x=%4", "/?x=%", "/p%zz?query=1", "/?%g0ser=1",
                                // a byte-order mark before the first name, which ClickHouse strips
                                "/?\xEF\xBB\xBFuser=x", "/?%EF%BB%BFpassword=x"}) {
    EXPECT_TRUE(uri_supplies_credentials(uri)) << uri;
    EXPECT_EQ(judge("SUCCESS", uri).reason, "credentials_supplied") << uri;
  }
  for (const std::string uri : {"/", "/?", "/?query=SELECT+user+FROM+t", "/?query=user%3Dx",
                                "/user?password_hint=1", "/?users=1", "/?user%3D=1",  // the name is "user="
                                "/?quota_key+=1",                                      // "quota_key "
                                "/?+user=1",                                           // " user"
                                "/?us%2565r=1",  // decoded once, as ClickHouse does: "us%65r"
                                "/?query=SELECT%201&default_format=JSON"}) {
    EXPECT_FALSE(uri_supplies_credentials(uri)) << uri;
    EXPECT_TRUE(judge("SUCCESS", uri).admit) << uri;
  }
}

TEST(GatewayJudge, SerialsAreNormalized) {
  EXPECT_EQ(normalized_serial("0A1B"), "a1b");
  EXPECT_EQ(normalized_serial("DEADBEEF"), "deadbeef");
  EXPECT_EQ(normalized_serial("000f"), "f");
  EXPECT_EQ(normalized_serial(""), "");
  EXPECT_EQ(normalized_serial("00"), "");
  EXPECT_EQ(normalized_serial("-0A"), "");
  EXPECT_EQ(normalized_serial("0x1"), "");
  EXPECT_EQ(normalized_serial("12:34"), "");
  EXPECT_EQ(normalized_serial(std::string(64, 'F')), std::string(64, 'f'));
  EXPECT_EQ(normalized_serial("00" + std::string(64, 'F')), std::string(64, 'f'));
  EXPECT_EQ(normalized_serial(std::string(65, 'F')), "");
}

TEST(GatewayJudge, TheGrantIsAskedWithTheNormalizedSerialOnly) {
  std::vector<std::string> asked;
  auto granted = [&](const std::string& s) {
    asked.push_back(s);
    return std::string("clickhouse-system");
  };
  EXPECT_TRUE(judge_gateway_request({false, "SUCCESS", "00ABC", "/", false}, granted).admit);
  EXPECT_EQ(judge_gateway_request({false, "SUCCESS", "", "/", false}, granted).reason, "grant_inactive");
  EXPECT_EQ(judge_gateway_request({false, "SUCCESS", "zz", "/", false}, granted).reason, "grant_inactive");
  EXPECT_EQ(judge_gateway_request({false, "SUCCESS", "ab", "/", false}, nullptr).reason, "grant_inactive");
  EXPECT_EQ(asked, std::vector<std::string>{"abc"});
}

// A kubernetes-readonly certificate reaches the Kubernetes API alone: shown
// to ClickHouse it is refused, by its own code, after every other check.
TEST(GatewayJudge, OnlyAClickhouseSystemGrantIsAdmitted) {
  auto scope_of = [](const std::string& s) { return s == "a1b" ? std::string("kubernetes-readonly") : std::string(); };
  GatewayVerdict v = judge_gateway_request({false, "SUCCESS", "0A1B", "/?query=SELECT%201", false}, scope_of);
  EXPECT_FALSE(v.admit);
  EXPECT_EQ(v.reason, "scope_mismatch");
  EXPECT_EQ(v.serial, "a1b") << "the engineer's certificate is named";
  EXPECT_EQ(judge_gateway_request({false, "SUCCESS", "0A1B", "/?user=x", false}, scope_of).reason,
            "credentials_supplied");
  EXPECT_EQ(judge_gateway_request({false, "SUCCESS", "0A1C", "/", false}, scope_of).reason, "grant_inactive");
  auto other = [](const std::string&) { return std::string("another-scope"); };
  EXPECT_EQ(judge_gateway_request({false, "SUCCESS", "0A1B", "/", false}, other).reason, "scope_mismatch");
  EXPECT_NE(gateway_denial_message("scope_mismatch"), gateway_denial_message("certificate_untrusted"));
  const auto& codes = model::gateway_denial_codes();
  EXPECT_NE(std::find(codes.begin(), codes.end(), "scope_mismatch"), codes.end());
}

TEST(GatewayJudge, CryptoSerialsCompareEqualOnceNormalized) {
  // inspect() prints whole bytes (BN_bn2hex): it may lead with a 0, which
  // the protocol's form doesn't. Both sides go through normalized_serial().
  auto ca = crypto::make_ca({.common_name = "ca", .not_before = std::chrono::system_clock::now() - 1h,
                             .not_after = std::chrono::system_clock::now() + 1h});
  std::string hex = crypto::inspect(ca.cert_pem).serial_hex;
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(normalized_serial(upper), normalized_serial(hex));
  EXPECT_EQ(normalized_serial("0" + upper), normalized_serial(hex));
  EXPECT_FALSE(normalized_serial(hex).empty());
  EXPECT_NE(normalized_serial(hex)[0], '0');
}

// ---- The server ----

const std::string kKey = std::string(32, 'a') + std::string(32, '7');

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string code() const { return nlohmann::json::parse(body).at("error").at("code").get<std::string>(); }
};

// A blocking loopback connection (5 s receive timeout, so a test can't hang).
class Connection {
 public:
  explicit Connection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Connection() { ::close(fd_); }
  bool connected() const { return connected_; }

  void send(const std::string& data) { ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size())); }

  // One response (by Content-Length); nullopt if the server closed first.
  std::optional<Reply> read_reply() {
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    Reply r;
    std::string head = buffer_.substr(0, head_end);
    r.status = std::stoi(head.substr(9, 3));
    size_t at = head.find("\r\n");
    while (at != std::string::npos) {
      size_t next = head.find("\r\n", at + 2);
      std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      at = next;
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (buffer_.size() < head_end + 4 + length)
      if (!fill()) return std::nullopt;
    r.body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, head_end + 4 + length);
    return r;
  }

  // True when the server closes the connection (EOF or reset) within the receive timeout.
  bool closed_by_peer() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  bool fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

using Fields = std::vector<std::pair<std::string, std::string>>;

// What the fixture's check takes for a certificate of the support CA (as
// nginx escapes it) — any other is a stranger's.
constexpr const char* kOurCertificate = "-----BEGIN%20CERTIFICATE-----%0Aours%0A";
constexpr const char* kOurCertificateDecoded = "-----BEGIN CERTIFICATE-----\nours\n";

Fields check_fields(const std::string& verify = "SUCCESS", const std::string& serial = "0A1B",
                    const std::string& uri = "/?query=SELECT%201", const std::string& credentials = "0") {
  return {{"X-Byoc-Check-Key", kKey}, {"X-Byoc-Service", "db"},        {"X-Byoc-Verify", verify},
          {"X-Byoc-Serial", serial},  {"X-Byoc-Uri", uri},             {"X-Byoc-Credentials", credentials},
          {"X-Byoc-Certificate", kOurCertificate}};
}

std::string request(const std::string& path, const Fields& fields, const std::string& method = "GET",
                    const std::string& extra = "") {
  std::string out = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : fields) out += name + ": " + value + "\r\n";
  return out + extra + "\r\n";
}

Fields without(Fields fields, const std::string& name) {
  std::erase_if(fields, [&](const auto& f) { return f.first == name; });
  return fields;
}

Fields with(Fields fields, const std::string& name, const std::string& value) {
  for (auto& f : fields)
    if (f.first == name) f.second = value;
  return fields;
}

class GatewayCheckServerTest : public ::testing::Test {
 protected:
  using Denial = std::tuple<std::string, std::string, std::string>;

  void start(GatewayCheckLimits limits = {}) {
    server_ = std::make_unique<GatewayCheckServer>(
        kKey,
        [](const std::string& serial) {
          if (serial == "a1b") return std::string("clickhouse-system");
          return serial == "c2d" ? std::string("kubernetes-readonly") : std::string();
        },
        [this](const std::string& service, const std::string& reason, const std::string& serial) {
          std::lock_guard lock(mutex_);
          denials_.emplace_back(service, reason, serial);
        },
        limits, 0, [](const std::string& pem) { return pem == kOurCertificateDecoded; });
  }
  void SetUp() override { start(); }

  // One request on its own connection.
  std::optional<Reply> ask(const std::string& raw) {
    Connection c(server_->port());
    EXPECT_TRUE(c.connected());
    c.send(raw);
    return c.read_reply();
  }

  std::vector<Denial> denials() {
    std::lock_guard lock(mutex_);
    return denials_;
  }

  std::unique_ptr<GatewayCheckServer> server_;
  std::mutex mutex_;
  std::vector<Denial> denials_;
};

TEST_F(GatewayCheckServerTest, AGrantedCertificateIsAdmittedWithItsNormalizedSerial) {
  auto r = ask(request("/check", check_fields()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->headers["x-byoc-serial"], "a1b");
  EXPECT_TRUE(denials().empty());
}

TEST_F(GatewayCheckServerTest, AKubernetesReadonlyCertificateIsRefusedAsScopeMismatchAndCounted) {
  auto r = ask(request("/check", check_fields("SUCCESS", "0C2D")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->code(), "scope_mismatch");
  EXPECT_EQ(r->headers["x-byoc-refusal"], "scope_mismatch");
  EXPECT_EQ(r->headers.count("x-byoc-serial"), 0u);
  EXPECT_EQ(denials(), (std::vector<Denial>{{"db", "scope_mismatch", "c2d"}}));
}

TEST_F(GatewayCheckServerTest, EachRefusalIsA403NamingItsReasonAndIsCounted) {
  struct Case {
    std::string path;
    Fields fields;
    std::string reason;
    std::string serial;
  };
  const std::vector<Case> cases = {
      {"/refused", check_fields("NONE", ""), "no_certificate", ""},
      // nginx leaves out headers whose value is empty
      {"/refused", without(check_fields("NONE"), "X-Byoc-Serial"), "no_certificate", ""},
      {"/check", without(without(check_fields(), "X-Byoc-Verify"), "X-Byoc-Serial"), "no_certificate", ""},
      {"/refused", check_fields("FAILED:certificate has expired"), "certificate_expired", "a1b"},
      {"/refused", check_fields("FAILED:certificate is not yet valid"), "certificate_not_yet_valid", "a1b"},
      {"/refused", check_fields("FAILED:certificate revoked", "00FF"), "certificate_revoked", "ff"},
      {"/refused", check_fields("FAILED:unable to get certificate CRL"), "crl_stale", "a1b"},
      {"/refused", check_fields("FAILED:unable to get local issuer certificate"), "certificate_untrusted", "a1b"},
      // A certificate the support CA did not sign names nobody, whatever nginx says of it.
      {"/refused", without(check_fields("FAILED:certificate has expired"), "X-Byoc-Certificate"),
       "certificate_untrusted", ""},
      {"/refused", with(check_fields("FAILED:certificate revoked"), "X-Byoc-Certificate", "-----BEGIN%20x"),
       "certificate_untrusted", ""},
      {"/check", check_fields("SUCCESS", "0B"), "grant_inactive", "b"},
      {"/check", check_fields("SUCCESS", "0A1B", "/", "1"), "credentials_supplied", "a1b"},
      {"/check", check_fields("SUCCESS", "0A1B", "/?us%65r=default&password=x"), "credentials_supplied", "a1b"},
      {"/check", check_fields("SUCCESS", "0A1B", "/?query=%zz"), "credentials_supplied", "a1b"},
  };
  for (const auto& c : cases) {
    auto r = ask(request(c.path, c.fields));
    ASSERT_TRUE(r) << c.reason;
    EXPECT_EQ(r->status, 403) << c.reason;
    EXPECT_EQ(r->headers["content-type"], "application/json");
    EXPECT_EQ(r->code(), c.reason);
    auto body = nlohmann::json::parse(r->body);
    EXPECT_EQ(body["error"]["field"], "");
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
    ASSERT_FALSE(denials().empty());
    EXPECT_EQ(denials().back(), Denial("db", c.reason, c.serial));
  }
  EXPECT_EQ(denials().size(), cases.size());
}

TEST_F(GatewayCheckServerTest, AWrongOrMissingKeyIs401AndNotCounted) {
  for (const auto& fields : {with(check_fields("NONE"), "X-Byoc-Check-Key", std::string(64, '0')),
                             with(check_fields("NONE"), "X-Byoc-Check-Key", kKey.substr(1)),
                             without(check_fields("NONE"), "X-Byoc-Check-Key")}) {
    auto r = ask(request("/refused", fields));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->code(), "check_key_invalid");
  }
  EXPECT_TRUE(denials().empty());
}

TEST_F(GatewayCheckServerTest, MalformedRequestsAre4xxAndNotCounted) {
  struct Case {
    std::string raw;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {request("/check", check_fields(), "GET", "Content-Length: 5\r\n") + "hello", 400, "body_not_allowed"},
      {request("/check", check_fields(), "GET", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", 400,
       "body_not_allowed"},
      {request("/check", with(check_fields(), "X-Byoc-Service", "DB_1")), 400, "invalid_service"},
      {request("/check", with(check_fields(), "X-Byoc-Service", "")), 400, "invalid_service"},
      {request("/check", without(check_fields(), "X-Byoc-Service")), 400, "invalid_service"},
      {request("/check", with(check_fields(), "X-Byoc-Credentials", "yes")), 400, "invalid_header"},
      {request("/check", without(check_fields(), "X-Byoc-Uri")), 400, "invalid_header"},
      {request("/check", without(check_fields(), "X-Byoc-Credentials")), 400, "invalid_header"},
      {request("/check", check_fields(), "GET", "X-Byoc-Verify: SUCCESS\r\n"), 400, "invalid_header"},
      {request("/other", check_fields()), 404, "not_found"},
      {request("/check?x=1", check_fields()), 404, "not_found"},
      {request("/check", check_fields(), "POST", "Content-Length: 0\r\n"), 405, "method_not_allowed"},
      {request("/check", check_fields(), "GET", "X-Pad: " + std::string(70000, 'p') + "\r\n"), 400,
       "malformed_request"},
      {"NOT HTTP AT ALL\r\n\r\n", 400, "malformed_request"},
  };
  for (const auto& c : cases) {
    auto r = ask(c.raw);
    ASSERT_TRUE(r) << c.code;
    EXPECT_EQ(r->status, c.status) << c.code;
    EXPECT_EQ(r->code(), c.code);
  }
  EXPECT_TRUE(denials().empty());
}

TEST_F(GatewayCheckServerTest, HeadIsAnsweredLikeGet) {
  auto r = ask(request("/refused", check_fields("NONE", ""), "HEAD"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(denials().size(), 1u);
}

TEST_F(GatewayCheckServerTest, KeepAliveServesSeveralChecksThenCloses) {
  server_.reset();
  start({.max_requests_per_connection = 3});
  Connection c(server_->port());
  for (int i = 0; i < 3; ++i) {
    c.send(request("/check", check_fields()));
    auto r = c.read_reply();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 204);
    EXPECT_EQ(r->headers.count("connection") ? r->headers["connection"] : "", i == 2 ? "close" : "");
  }
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(GatewayCheckServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  server_.reset();
  start({.max_connections = 2});
  std::optional<Connection> a(server_->port());
  Connection b(server_->port());
  for (Connection* c : {&*a, &b}) {  // both admitted and served
    c->send(request("/check", check_fields()));
    ASSERT_TRUE(c->read_reply());
  }
  Connection over(server_->port());
  ASSERT_TRUE(over.connected());  // the kernel accepts; the server closes
  EXPECT_TRUE(over.closed_by_peer());
  // A slot freed is a slot available again.
  a.reset();
  EXPECT_TRUE(testing::eventually(
      [&] {
        Connection c(server_->port());
        c.send(request("/check", check_fields()));
        auto r = c.read_reply();
        return r && r->status == 204;
      },
      10s));
}

TEST_F(GatewayCheckServerTest, AnIdleConnectionIsClosedAfterTheReadTimeout) {
  server_.reset();
  start({.read_timeout = 200ms});
  Connection c(server_->port());
  c.send("GET /check HTTP/1.1\r\n");  // and never the rest
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(GatewayCheckServerTest, StopIsPromptWithClientsConnectedAndFreesThePort) {
  Connection idle(server_->port());
  Connection half(server_->port());
  half.send("GET /check HTTP/1.1\r\n");
  uint16_t port = server_->port();
  auto started = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_FALSE(Connection(port).connected());
  server_->stop();  // idempotent
  server_.reset();
}

TEST(GatewayCheckServerKey, MustBe64HexDigits) {
  EXPECT_EQ(testing::error_code([] { GatewayCheckServer("short", nullptr, nullptr); }), "invalid_check_key");
  EXPECT_EQ(testing::error_code([] { GatewayCheckServer(std::string(64, 'g'), nullptr, nullptr); }),
            "invalid_check_key");
}

// Where a cluster's gateways run in other pods, the check listens on every
// address of the agent's; the host must be an IP address.
TEST(GatewayCheckServerHost, ListensOnTheHostGiven) {
  GatewayCheckServer every(kKey, nullptr, nullptr, {}, 0, nullptr, "0.0.0.0");
  Connection c(every.port());  // loopback is one of every address
  EXPECT_TRUE(c.connected());
  every.stop();
  EXPECT_EQ(testing::error_code([] { GatewayCheckServer(kKey, nullptr, nullptr, {}, 0, nullptr, "byoc-agent"); }),
            "invalid_listen_host");
}

}  // namespace
}  // namespace byoc::agent
