#include "agent/runtimes/local/probes.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "base/error.h"
#include "base/http_client.h"

namespace byoc::agent::local {
namespace {

constexpr std::chrono::milliseconds kProbeTimeout{2'000};
// ZooKeeper answers `ruok` in microseconds once it serves; a starting one may
// sit on the request, and the caller polls again sooner with a new connection.
constexpr std::chrono::milliseconds kZooKeeperProbeTimeout{500};

bool answered_ok(const http::Response& r) { return r.status == 200 && r.body.rfind("Ok.", 0) == 0; }

}  // namespace

bool clickhouse_answers(int http_port) {
  if (http_port <= 0) return false;
  try {
    http::Client client;
    http::Request request;
    request.url = "http://127.0.0.1:" + std::to_string(http_port) + "/ping";
    request.timeout = kProbeTimeout;
    return answered_ok(client.send(request));
  } catch (const Error&) {
    return false;
  }
}

bool zookeeper_answers(int client_port) {
  if (client_port <= 0 || client_port > 65535) return false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval timeout{};
  timeout.tv_sec = kZooKeeperProbeTimeout.count() / 1000;
  timeout.tv_usec = (kZooKeeperProbeTimeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(client_port));
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, "ruok", 4, MSG_NOSIGNAL) == 4) {
    // Four bytes are the whole answer: no waiting for the close, which a
    // server still starting up may hold back.
    char buffer[8];
    ssize_t n;
    while (answer.size() < 4 && (n = ::recv(fd, buffer, 4 - answer.size(), 0)) > 0)
      answer.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer == "imok";
}

EndpointProbe probe_endpoint(int https_port, const std::string& ca_pem) {
  EndpointProbe probe;
  if (https_port <= 0) return probe;
  std::string base = "https://127.0.0.1:" + std::to_string(https_port);
  http::Request request;
  request.source_address = "127.0.0.1";
  request.timeout = kProbeTimeout;
  try {
    // Which config runs must be readable while nginx still serves a
    // certificate the runtime no longer trusts (a rotated environment CA):
    // that is what tells the runtime to reload it. Nothing secret is sent.
    http::Client unverified(http::TlsOptions{.insecure_skip_verify = true});
    request.url = base + "/.byoc/revision";
    http::Response revision = unverified.send(request);
    if (revision.status == 200) probe.revision = revision.body;
  } catch (const Error&) {
    return probe;  // not up (yet)
  }
  try {
    http::Client client(http::TlsOptions{.ca_pem = ca_pem});
    request.url = base + "/ping";
    probe.ping_ok = answered_ok(client.send(request));
  } catch (const Error&) {
    // Not up, or not with a certificate from the environment CA: not ready.
  }
  return probe;
}

}  // namespace byoc::agent::local
