#include "store/postgres/listener.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "base/error.h"
#include "store/postgres/session.h"

namespace byoc::store::postgres {
namespace {
constexpr int kQuietCheckMs = 3000;  // a quiet connection is asked SELECT 1 this often
constexpr int kProbeAnswerMs = 3000;  // and must answer within this
constexpr int kLongestPauseMs = 2000;
}  // namespace

Listener::Listener(std::string uri, std::vector<std::string> channels, OnMessage on_message,
                   std::function<void()> on_resumed)
    : uri_(std::move(uri)),
      channels_(std::move(channels)),
      on_message_(std::move(on_message)),
      on_resumed_(std::move(on_resumed)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw Error::Internal("cannot make the store listener's eventfd");
  try {
    listen();
  } catch (...) {
    ::close(wake_fd_);
    throw;
  }
  listening_ = true;
  thread_ = std::thread([this] { run(); });
}

Listener::~Listener() {
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  ::close(wake_fd_);
}

void Listener::listen() {
  connection_ = std::make_unique<Connection>(uri_);
  for (const auto& channel : channels_) connection_->exec("LISTEN " + channel);
}

void Listener::probe() {
  // Sent without waiting, answered within a bound: a connection whose peer
  // vanished would otherwise block a plain query for the kernel's minutes.
  if (!PQsendQuery(connection_->raw(), "SELECT 1"))
    throw RetryTransaction(PQerrorMessage(connection_->raw()), true);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kProbeAnswerMs);
  while (true) {
    if (!PQconsumeInput(connection_->raw())) throw RetryTransaction(PQerrorMessage(connection_->raw()), true);
    drain();
    if (!PQisBusy(connection_->raw())) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw RetryTransaction("the store did not answer a probe within 3 s", true);
    if (!wait_readable(static_cast<int>(left.count())) && stopping_) return;
  }
  while (PGresult* r = PQgetResult(connection_->raw())) {
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) throw RetryTransaction("the store's probe failed", true);
  }
}

bool Listener::wait_readable(int timeout_ms) {
  pollfd fds[2] = {{PQsocket(connection_->raw()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  int n = ::poll(fds, 2, timeout_ms);
  if (stopping_) return false;
  return n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP));
}

void Listener::drain() {
  while (PGnotify* n = PQnotifies(connection_->raw())) {
    std::string payload = n->extra ? n->extra : "";
    std::string channel = n->relname ? n->relname : "";
    int sender = n->be_pid;
    PQfreemem(n);
    on_message_(channel, payload, sender);
  }
}

void Listener::pause(int milliseconds) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(milliseconds), [this] { return stopping_.load(); });
}

void Listener::run() {
  int backoff_ms = 50;
  while (!stopping_) {
    try {
      if (!connection_) {
        listen();
        backoff_ms = 50;
        spdlog::info("store listener: listening again");
        // Caches move on before they count as current again.
        on_resumed_();
        listening_ = true;
      }
      if (wait_readable(kQuietCheckMs)) {
        if (!PQconsumeInput(connection_->raw())) throw RetryTransaction(PQerrorMessage(connection_->raw()), true);
        drain();
      } else if (!stopping_) {
        probe();  // quiet: make sure the database is still there
      }
    } catch (const std::exception& e) {
      if (stopping_) break;
      if (listening_.exchange(false)) spdlog::warn("store listener lost its connection: {}", e.what());
      connection_.reset();
      pause(backoff_ms);
      backoff_ms = std::min(kLongestPauseMs, backoff_ms * 2);
    }
  }
  listening_ = false;
}

}  // namespace byoc::store::postgres
