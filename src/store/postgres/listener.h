// Listener: one connection per server that LISTENs on the store's channel
// (session.h) and hands each notification to `on_message`, on its own
// thread, in commit order. Notifications are held by PostgreSQL only for
// connected listeners: when the connection breaks, listening() turns false
// at once, the listener reconnects (backing off up to 2 s) and, once it
// listens again, calls `on_resumed` (what was sent meanwhile is lost).
// A quiet connection is checked every few seconds, so a dead database is
// noticed within them, not at the next TCP timeout.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/connection.h"

namespace byoc::store::postgres {

class Listener {
 public:
  // A notification's channel, payload and the backend (pid) that sent it.
  using OnMessage = std::function<void(const std::string& channel, const std::string& payload, int sender_pid)>;

  // Connects and listens on `channels` before returning (throws byoc::Error
  // if it can't), then carries on on its own thread.
  Listener(std::string uri, std::vector<std::string> channels, OnMessage on_message, std::function<void()> on_resumed);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool listening() const { return listening_.load(); }

 private:
  void run();
  void listen();
  // Waits for input or `timeout_ms`; false once stopping.
  bool wait_readable(int timeout_ms);
  void drain();
  void probe();
  void pause(int milliseconds);

  const std::string uri_;
  const std::vector<std::string> channels_;
  OnMessage on_message_;
  std::function<void()> on_resumed_;
  std::unique_ptr<Connection> connection_;
  std::atomic<bool> listening_{false};
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;  // an eventfd: written to stop the thread
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace byoc::store::postgres
