// WorkPool: a fixed set of threads running queued closures, for blocking work
// (store transactions, process management) that must stay off I/O threads.
// post() is thread-safe; shutdown() (and the destructor) finishes queued work
// and joins; work posted after that is dropped.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace byoc {

class WorkPool {
 public:
  explicit WorkPool(int threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void post(std::function<void()> work);
  // Whether the calling thread is one of this pool's (work already there
  // can run at once instead of queueing behind others).
  bool on_own_thread() const;
  // Idempotent; not from one of the pool's own threads.
  void shutdown();

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  bool joined_ = false;  // no thread is left to run anything
  std::vector<std::thread> threads_;
};

}  // namespace byoc
