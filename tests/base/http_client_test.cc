// http::Client's streaming path (Request::on_head / on_body) against a
// plain-HTTP server on a loopback port that plays a script per connection:
// the test decides what is sent and when, so "the head came, the body has
// not" is a state the test holds, not a race it hopes for.
#include "base/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "base/error.h"

namespace byoc::http {
namespace {

using namespace std::chrono_literals;

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Serves connections one after another on its own thread: reads a request
// head, hands it to the script, closes. The script writes the answer.
class ScriptedServer {
 public:
  using Script = std::function<void(int fd, const std::string& request_head)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    stopping_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  void serve() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string head;
      char buf[4096];
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      while (head.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd c{fd, POLLIN, 0};
        if (::poll(&c, 1, 50) <= 0) continue;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      if (head.find("\r\n\r\n") != std::string::npos) script_(fd, head);
      ::close(fd);
    }
  }

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Waits up to `limit` for `flag`.
bool wait_for(const std::atomic<bool>& flag, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!flag && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  return flag;
}

constexpr const char* kChunkedHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";

TEST(HttpClientStreamingTest, TheHeadIsToldWhenItArrivesNotWithTheFirstByteOfTheBody) {
  // A quiet watch: the head now, the first event much later.
  std::atomic<bool> head_told{false};
  std::atomic<bool> told_before_body{false};
  ScriptedServer server([&](int fd, const std::string&) {
    send_all(fd, kChunkedHead);
    told_before_body = wait_for(head_told, 3s);
    send_all(fd, "6\r\nevent\n\r\n0\r\n\r\n");
  });
  Client client;
  Request r;
  r.url = server.url("/watch");
  int status = 0;
  std::string content_type;
  std::string body;
  r.on_head = [&](int s, const std::vector<std::pair<std::string, std::string>>& headers) {
    status = s;
    for (const auto& [name, value] : headers)
      if (name == "content-type") content_type = value;
    head_told = true;
    return true;
  };
  r.on_body = [&](std::string_view piece) {
    body.append(piece);
    return true;
  };
  client.send(r);
  EXPECT_TRUE(told_before_body) << "on_head waited for the body";
  EXPECT_EQ(status, 200);
  EXPECT_EQ(content_type, "application/json");
  EXPECT_EQ(body, "event\n");
}

TEST(HttpClientStreamingTest, AnInterimHeadIsNotTheAnswers) {
  ScriptedServer server([](int fd, const std::string&) {
    send_all(fd,
             "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
             "HTTP/1.1 201 Created\r\nX-Final: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  });
  Client client;
  Request r;
  r.url = server.url();
  int heads = 0;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> seen;
  std::string body;
  r.on_head = [&](int s, const std::vector<std::pair<std::string, std::string>>& headers) {
    ++heads;
    status = s;
    seen = headers;
    return true;
  };
  r.on_body = [&](std::string_view piece) {
    body.append(piece);
    return true;
  };
  Response response = client.send(r);
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(status, 201);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(body, "ok");
  bool interim = false, final_header = false;
  for (const auto& [name, value] : seen) {
    interim |= name == "x-interim";
    final_header |= name == "x-final";
  }
  EXPECT_FALSE(interim);
  EXPECT_TRUE(final_header);
}

TEST(HttpClientStreamingTest, AnAnswerWithoutABodyIsToldItsHeadOnce) {
  for (const std::string answer :
       {"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"}) {
    ScriptedServer server([&](int fd, const std::string&) { send_all(fd, answer); });
    Client client;
    Request r;
    r.url = server.url();
    int heads = 0, pieces = 0, status = 0;
    r.on_head = [&](int s, const std::vector<std::pair<std::string, std::string>>&) {
      ++heads;
      status = s;
      return true;
    };
    r.on_body = [&](std::string_view) {
      ++pieces;
      return true;
    };
    client.send(r);
    EXPECT_EQ(heads, 1) << answer;
    EXPECT_EQ(status, answer.find("204") != std::string::npos ? 204 : 200) << answer;
    EXPECT_EQ(pieces, 0) << answer;
  }
}

TEST(HttpClientStreamingTest, AHeadRequestIsToldItsHeadAndNoBody) {
  std::string method;
  ScriptedServer server([&](int fd, const std::string& head) {
    method = head.substr(0, head.find(' '));
    send_all(fd,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n");
  });
  Client client;
  Request r;
  r.method = "HEAD";
  r.url = server.url();
  int heads = 0, pieces = 0;
  r.on_head = [&](int s, const std::vector<std::pair<std::string, std::string>>&) {
    ++heads;
    EXPECT_EQ(s, 200);
    return true;
  };
  r.on_body = [&](std::string_view) {
    ++pieces;
    return true;
  };
  client.send(r);
  EXPECT_EQ(method, "HEAD");
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(pieces, 0);
}

TEST(HttpClientStreamingTest, AHeadRefusedEndsTheTransferBeforeTheBody) {
  ScriptedServer server([](int fd, const std::string&) {
    send_all(fd, kChunkedHead);
    send_all(fd, "5\r\nhello\r\n0\r\n\r\n");
  });
  Client client;
  Request r;
  r.url = server.url();
  int pieces = 0;
  r.on_head = [](int, const std::vector<std::pair<std::string, std::string>>&) { return false; };
  r.on_body = [&](std::string_view) {
    ++pieces;
    return true;
  };
  try {
    client.send(r);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "http_answer_refused");
  }
  EXPECT_EQ(pieces, 0);
}

struct ReaderFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A callback's exception must not unwind through curl: it ends the
// transfer, comes out of send() as thrown, and the client works on — on
// the plain path and on the cancellable (multi) one alike.
TEST(HttpClientStreamingTest, AnExceptionOfACallbackComesOutOfSendAndTheClientWorksOn) {
  ScriptedServer server([](int fd, const std::string&) {
    send_all(fd, kChunkedHead);
    send_all(fd, "5\r\nhello\r\n0\r\n\r\n");
  });
  std::atomic<bool> never{false};
  const std::atomic<bool>* cancel_flags[] = {nullptr, &never};
  for (const std::atomic<bool>* cancel : cancel_flags) {
    SCOPED_TRACE(cancel ? "cancellable" : "plain");
    Client client;
    Request throwing_head;
    throwing_head.url = server.url();
    throwing_head.cancel = cancel;
    throwing_head.on_head = [](int, const std::vector<std::pair<std::string, std::string>>&) -> bool {
      throw ReaderFailure("from on_head");
    };
    throwing_head.on_body = [](std::string_view) { return true; };
    try {
      client.send(throwing_head);
      ADD_FAILURE() << "no exception";
    } catch (const ReaderFailure& e) {
      EXPECT_STREQ(e.what(), "from on_head");
    }

    Request throwing_body = throwing_head;
    throwing_body.on_head = nullptr;
    throwing_body.on_body = [](std::string_view) -> bool { throw ReaderFailure("from on_body"); };
    try {
      client.send(throwing_body);
      ADD_FAILURE() << "no exception";
    } catch (const ReaderFailure& e) {
      EXPECT_STREQ(e.what(), "from on_body");
    }

    Request fine;
    fine.url = server.url();
    fine.cancel = cancel;
    std::string body;
    fine.on_body = [&](std::string_view piece) {
      body.append(piece);
      return true;
    };
    EXPECT_EQ(client.send(fine).status, 200);
    EXPECT_EQ(body, "hello");
  }
}

TEST(HttpClientStreamingTest, ACollectedAnswerStaysBounded) {
  ScriptedServer server([](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789");
  });
  Client client;
  Request r;
  r.url = server.url();
  EXPECT_EQ(client.send(r).body, "0123456789");
  r.max_response_bytes = 4;
  try {
    client.send(r);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "http_answer_too_large");
  }
}

}  // namespace
}  // namespace byoc::http
