// The listener's hardening against a real `byoc server` on loopback: raw TCP
// and TLS clients sending what an attacker would.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "server_process.h"
#include "testing/testing.h"

namespace byoc::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

int tcp_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the peer closed `fd` within `wait` (EOF or reset).
bool closed_by_peer(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char b[4096];
  ssize_t n;
  while ((n = ::recv(fd, b, sizeof b, MSG_DONTWAIT)) > 0) {
  }
  return n == 0 || (n < 0 && errno != EAGAIN);
}

// A blocking TLS client on one connection.
class TlsClient {
 public:
  explicit TlsClient(int port) : ctx_(SSL_CTX_new(TLS_client_method())) {
    fd_ = tcp_connect(port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    ok_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }
  void send(const std::string& s) { SSL_write(ssl_, s.data(), static_cast<int>(s.size())); }
  // Everything until the server closes (or `wait` passes: then closed=false).
  std::string read_all(std::chrono::milliseconds wait, bool* closed) {
    std::string out;
    auto until = std::chrono::steady_clock::now() + wait;
    *closed = false;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (SSL_pending(ssl_) == 0 && ::poll(&p, 1, 50) <= 0) continue;
      char b[4096];
      int n = SSL_read(ssl_, b, sizeof b);
      if (n > 0) {
        out.append(b, static_cast<size_t>(n));
        continue;
      }
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ) continue;
      *closed = true;
      break;
    }
    return out;
  }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
};

class Hardening : public ::testing::Test {
 protected:
  void SetUp() override {
    rlimit l{};
    ::getrlimit(RLIMIT_NOFILE, &l);
    l.rlim_cur = l.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &l);
    server_.set_extra_args({"--handshake-timeout", "1", "--header-timeout", "1", "--body-timeout", "1"});
    server_.start();
  }
  int status_of(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(response.substr(9, 3));
  }
  testing::TempDir scratch_;
  ServerProcess server_{scratch_.path(), proc::pick_free_port()};
};

TEST_F(Hardening, IdleAndSlowlorisConnectionsDoNotDelayANewClient) {
  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(tcp_connect(server_.port()));
  std::vector<std::unique_ptr<TlsClient>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<TlsClient>(server_.port()));
    slow.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  }
  http::Client client(http::TlsOptions{files::read(server_.data_dir() / "ca.pem")});
  auto started = std::chrono::steady_clock::now();
  auto res = client.send({"GET", server_.url() + "/healthz"});
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(res.status, 200);
  EXPECT_LT(took, 100ms);
  // After the bounds (1 s here) every idle one is closed and slowloris got 408.
  size_t closed = 0;
  for (int fd : idle) closed += closed_by_peer(fd, 3s) ? 1 : 0;
  EXPECT_EQ(closed, idle.size());
  bool was_closed = false;
  EXPECT_EQ(status_of(slow.front()->read_all(3s, &was_closed)), 408);
  EXPECT_TRUE(was_closed);
  for (int fd : idle) ::close(fd);
}

// CPU time (user + system, in clock ticks) the process has used so far.
long cpu_ticks(pid_t pid) {
  std::string stat = files::read("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// A ClientHello that arrives in pieces waits for the rest without holding a
// handshake slot or spinning; one that never completes is closed on time.
TEST_F(Hardening, PartialClientHellosNeitherSpinNorBlock) {
  std::vector<int> partial;
  const std::string start = std::string("\x16\x03\x01\x02\x00", 5) + "abc";
  for (int i = 0; i < 200; ++i) {
    partial.push_back(tcp_connect(server_.port()));
    ASSERT_EQ(::send(partial.back(), start.data(), start.size(), 0), static_cast<ssize_t>(start.size()));
  }
  std::this_thread::sleep_for(100ms);
  long before = cpu_ticks(server_.pid());
  std::this_thread::sleep_for(500ms);
  long spent = cpu_ticks(server_.pid()) - before;
  EXPECT_LT(spent, 10) << "ticks spent in 0.5 s while 200 ClientHellos stall";

  // A real ClientHello split in two with a pause completes its handshake.
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  ASSERT_EQ(SSL_connect(ssl), -1);  // wants the server's answer: the hello is in the write BIO
  char* hello_data = nullptr;
  long hello_size = BIO_get_mem_data(SSL_get_wbio(ssl), &hello_data);
  std::string hello(hello_data, static_cast<size_t>(hello_size));
  ASSERT_GT(hello.size(), 20u);
  int fd = tcp_connect(server_.port());
  ASSERT_EQ(::send(fd, hello.data(), 9, 0), 9);
  std::this_thread::sleep_for(40ms);
  ASSERT_EQ(::send(fd, hello.data() + 9, hello.size() - 9, 0), static_cast<ssize_t>(hello.size() - 9));
  BIO* socket_bio = BIO_new_socket(fd, BIO_NOCLOSE);
  SSL_set_bio(ssl, socket_bio, socket_bio);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(SSL_connect(ssl), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);

  http::Client client(http::TlsOptions{files::read(server_.data_dir() / "ca.pem")});
  auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(client.send({"GET", server_.url() + "/healthz"}).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 100ms);
  size_t closed = 0;
  for (int p : partial) closed += closed_by_peer(p, 3s) ? 1 : 0;
  EXPECT_EQ(closed, partial.size());
  for (int p : partial) ::close(p);
}

// One source can hold only so many connections that haven't sent a request:
// beyond the limit its oldest go first, long before any timeout.
TEST(HardeningLimits, APerSourcePendingLimitClosesTheOldestFirst) {
  testing::TempDir scratch;
  ServerProcess server(scratch.path(), proc::pick_free_port());
  server.set_extra_args({"--handshake-timeout", "60", "--max-pending-per-source", "20"});
  server.start();
  std::vector<int> idle;
  for (int i = 0; i < 30; ++i) {
    idle.push_back(tcp_connect(server.port()));
    ASSERT_GE(idle.back(), 0);
  }
  size_t oldest_closed = 0;
  for (int i = 0; i < 10; ++i) oldest_closed += closed_by_peer(idle[i], 2s) ? 1 : 0;
  EXPECT_EQ(oldest_closed, 10u);
  size_t newest_open = 0;
  for (int i = 10; i < 30; ++i) newest_open += closed_by_peer(idle[i], 20ms) ? 0 : 1;
  EXPECT_EQ(newest_open, 20u);
  http::Client client(http::TlsOptions{files::read(server.data_dir() / "ca.pem")});
  EXPECT_EQ(client.send({"GET", server.url() + "/healthz"}).status, 200);
  for (int fd : idle) ::close(fd);
}

TEST_F(Hardening, MalformedRequestsAreAnsweredThenClosed) {
  std::vector<std::pair<std::string, int>> cases = {
      {"GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + std::string(100'000, 'a') + "\r\n\r\n", 431},
      {"GET /" + std::string(20'000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"GET /healthz\r\n\r\n", 400},
      {"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505},
      {"GET /healthz HTTP/1.1\nHost: x\n\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab", 408},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", 408},
      {"GET /healthz HTTP/1.1\r\nHost: x\r\n", 408},
      {"GET /v1/environments/%ff HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
  };
  std::string headers_flood = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10'000; ++i) headers_flood += "X" + std::to_string(i) + ": y\r\n";
  cases.emplace_back(headers_flood + "\r\n", 431);
  for (const auto& [request, want] : cases) {
    TlsClient c(server_.port());
    ASSERT_TRUE(c.ok());
    c.send(request);
    bool closed = false;
    std::string answer = c.read_all(5s, &closed);
    EXPECT_EQ(status_of(answer), want) << request.substr(0, 80) << "\n" << answer.substr(0, 200);
    EXPECT_TRUE(closed) << request.substr(0, 80);
    EXPECT_NE(answer.find("\"error\""), std::string::npos) << request.substr(0, 80);
  }
}

TEST_F(Hardening, TheSmugglingPairNeverYieldsASecondResponse) {
  TlsClient c(server_.port());
  c.send(
      "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n"
      "xxGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  std::string answer = c.read_all(5s, &closed);
  EXPECT_EQ(status_of(answer), 400);
  EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << answer;
  EXPECT_TRUE(closed);
}

TEST_F(Hardening, PlainHttpOnTheTlsPortIsAnswered) {
  int fd = tcp_connect(server_.port());
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  char b[1024] = {0};
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  ssize_t n = ::recv(fd, b, sizeof b - 1, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(b, 12), "HTTP/1.1 400");
  EXPECT_TRUE(closed_by_peer(fd, 5s));
  ::close(fd);
}

TEST_F(Hardening, RandomMethodsAddNoSeries) {
  for (int i = 0; i < 20; ++i) {
    TlsClient c(server_.port());
    c.send("QX" + std::to_string(i) + " /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    bool closed = false;
    c.read_all(2s, &closed);
  }
  http::Client client(http::TlsOptions{files::read(server_.data_dir() / "ca.pem")});
  auto res = client.send({"GET", server_.url() + "/metrics"});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body.find("method=\"QX"), std::string::npos);
  EXPECT_NE(res.body.find("method=\"other\""), std::string::npos);
}

TEST_F(Hardening, CbcSuitesAreRefusedAndDataDirFilesArePrivate) {
  std::string cmd = "timeout 10 openssl s_client -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA -connect 127.0.0.1:" +
                    std::to_string(server_.port()) + " </dev/null >/dev/null 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  std::string good = "timeout 10 openssl s_client -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -connect 127.0.0.1:" +
                     std::to_string(server_.port()) + " </dev/null >/dev/null 2>&1";
  EXPECT_EQ(std::system(good.c_str()), 0);
  for (const auto& entry : fs::directory_iterator(server_.data_dir())) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(entry.status().permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write)
        << entry.path();
  }
}

}  // namespace
}  // namespace byoc::test
