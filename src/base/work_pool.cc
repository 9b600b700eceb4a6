#include "base/work_pool.h"

#include <spdlog/spdlog.h>

namespace byoc {
namespace {
thread_local const WorkPool* current_pool = nullptr;
}  // namespace

WorkPool::WorkPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

WorkPool::~WorkPool() { shutdown(); }

void WorkPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  std::lock_guard lock(mutex_);
  joined_ = true;
}

void WorkPool::post(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    // Queued after shutdown nothing would run it, and what it uses may be gone.
    if (joined_) return;
    queue_.push_back(std::move(work));
  }
  cv_.notify_one();
}

bool WorkPool::on_own_thread() const { return current_pool == this; }

void WorkPool::loop() {
  current_pool = this;
  while (true) {
    std::function<void()> work;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      work();
    } catch (const std::exception& e) {
      spdlog::error("background work failed: {}", e.what());
    }
  }
}

}  // namespace byoc
