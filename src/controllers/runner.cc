#include "controllers/runner.h"

#include <spdlog/spdlog.h>

namespace byoc::controllers {
namespace {
// When another server's lease has no known end (it is being claimed right now).
constexpr std::chrono::seconds kLeasedElsewhereRetry{5};
}  // namespace

Runner::Runner(store::Store& store, const Clock& clock, std::string holder, int workers, std::chrono::seconds lease)
    : store_(store), clock_(clock), holder_(std::move(holder)), worker_count_(workers), lease_(lease) {}

Runner::~Runner() { stop(); }

void Runner::add(const std::string& kind, Reconciler* reconciler) { reconcilers_[kind] = reconciler; }

void Runner::add_resync(const std::string& kind, std::function<std::vector<std::string>()> lister) {
  listers_[kind] = std::move(lister);
}

void Runner::start(std::chrono::milliseconds resync_period) {
  for (int i = 0; i < worker_count_; ++i) threads_.emplace_back([this] { work(); });
  threads_.emplace_back([this, resync_period] { resync_loop(resync_period); });
  threads_.emplace_back([this] { keep_leases_loop(); });
}

void Runner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  resync_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Another server may take over at once, not one lease later.
  std::set<std::string> held;
  {
    std::lock_guard lock(mutex_);
    held.swap(held_);
  }
  for (const auto& key : held) release(key);
}

bool Runner::lease(const std::string& key) {
  bool leased = false;
  int64_t held_until = 0, now = 0;
  try {
    store_.transact([&](store::Transaction& tx) {
      now = clock_.unix_seconds();
      leased = tx.leases().acquire(key, holder_, now, lease_.count(), &held_until);
    });
  } catch (const std::exception& e) {
    spdlog::warn("lease for {} failed: {}", key, e.what());
    enqueue(key, kLeasedElsewhereRetry);
    return false;
  }
  if (leased) return true;
  {
    std::lock_guard lock(mutex_);
    held_.erase(key);
  }
  // Another server works on it: look again when its lease runs out (plus a
  // moment, so its own renewal, if it lives, comes first).
  std::chrono::milliseconds wait = held_until > now ? std::chrono::seconds(held_until - now) + std::chrono::milliseconds(250)
                                                    : std::chrono::milliseconds(kLeasedElsewhereRetry);
  enqueue(key, std::min<std::chrono::milliseconds>(wait, lease_ + std::chrono::seconds(1)));
  return false;
}

void Runner::release(const std::string& key) {
  try {
    store_.transact([&](store::Transaction& tx) { tx.leases().release(key, holder_); });
  } catch (const std::exception& e) {
    spdlog::warn("lease release for {} failed: {}", key, e.what());
  }
}

void Runner::schedule_locked(const std::string& key, MonotonicTime when) {
  auto it = due_.find(key);
  if (it != due_.end()) {
    if (it->second <= when) return;
    order_.erase({it->second, key});
    it->second = when;
  } else {
    due_.emplace(key, when);
  }
  order_.emplace(when, key);
}

void Runner::enqueue(const std::string& key, std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mutex_);
    auto when = clock_.monotonic_time() + delay;
    if (in_flight_.count(key) && delay.count() == 0) {
      dirty_.insert(key);
      return;
    }
    schedule_locked(key, when);
  }
  cv_.notify_one();
}

void Runner::enqueue_spread(const std::vector<std::string>& keys, std::chrono::milliseconds over) {
  if (keys.empty()) return;
  {
    std::lock_guard lock(mutex_);
    auto now = clock_.monotonic_time();
    auto step = over / static_cast<int64_t>(keys.size());
    // A key already queued keeps its time: a reconciler that asked to look
    // again in two minutes (a slow cloud) is not hurried by the resync.
    for (size_t i = 0; i < keys.size(); ++i)
      if (!due_.count(keys[i]) && !in_flight_.count(keys[i]))
        schedule_locked(keys[i], now + step * static_cast<int64_t>(i));
  }
  cv_.notify_all();
}

size_t Runner::pending() const {
  std::lock_guard lock(mutex_);
  return due_.size() + in_flight_.size();
}

size_t Runner::waiting() const {
  std::lock_guard lock(mutex_);
  return in_flight_.empty() ? due_.size() : 0;
}

void Runner::resync_loop(std::chrono::milliseconds period) {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    for (const auto& [kind, lister] : listers_) {
      try {
        std::vector<std::string> keys;
        for (const auto& id : lister()) keys.push_back(kind + "/" + id);
        // Spread over the period: a resync of thousands of keys must not
        // arrive as one burst in front of the work the API just queued.
        enqueue_spread(keys, period);
      } catch (const std::exception& e) {
        spdlog::warn("resync of {} failed: {}", kind, e.what());
      }
    }
    lock.lock();
    MonotonicTime next = clock_.monotonic_time() + period;
    while (!stopping_ && !clock_.wait_until(lock, resync_cv_, next)) {
    }
  }
}

void Runner::keep_leases_loop() {
  const auto third = std::chrono::duration_cast<std::chrono::milliseconds>(lease_) / 3;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    MonotonicTime next = clock_.monotonic_time() + third;
    while (!stopping_ && !clock_.wait_until(lock, resync_cv_, next)) {
    }
    if (stopping_) return;
    std::vector<std::string> long_running;
    MonotonicTime now = clock_.monotonic_time();
    for (const auto& [key, since] : in_flight_)
      if (now - since >= third) long_running.push_back(key);
    lock.unlock();
    for (const auto& key : long_running) {
      bool renewed = false;
      try {
        store_.transact([&](store::Transaction& tx) {
          renewed = tx.leases().acquire(key, holder_, clock_.unix_seconds(), lease_.count());
        });
      } catch (const std::exception& e) {
        spdlog::warn("renewing the lease of {} failed: {}", key, e.what());
      }
      if (!renewed) spdlog::warn("the lease of {} went to another server while it was being reconciled", key);
    }
    lock.lock();
  }
}

void Runner::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (stopping_) return;
    auto now = clock_.monotonic_time();
    // The earliest due key that isn't being worked on (keys in flight are
    // few: at most one per worker).
    auto next = order_.begin();
    while (next != order_.end() && in_flight_.count(next->second)) ++next;
    if (next == order_.end()) {
      cv_.wait(lock);
      continue;
    }
    if (next->first > now) {
      clock_.wait_until(lock, cv_, next->first);
      continue;
    }
    std::string key = next->second;
    order_.erase(next);
    due_.erase(key);
    in_flight_.emplace(key, now);
    lock.unlock();
    run_one(key);
    lock.lock();
    in_flight_.erase(key);
    if (dirty_.erase(key)) schedule_locked(key, clock_.monotonic_time());
    cv_.notify_all();
  }
}

void Runner::run_one(const std::string& key) {
  auto slash = key.find('/');
  auto it = reconcilers_.find(key.substr(0, slash));
  if (slash == std::string::npos || it == reconcilers_.end()) {
    spdlog::error("no reconciler for {}", key);
    return;
  }
  if (!lease(key)) return;
  std::optional<std::chrono::milliseconds> again;
  try {
    ReconcileResult result = it->second->reconcile(key.substr(slash + 1));
    {
      std::lock_guard lock(mutex_);
      failures_.erase(key);
    }
    again = result.requeue_after;
    if (on_result_) on_result_(key.substr(0, slash), true);
  } catch (const std::exception& e) {
    std::chrono::milliseconds delay;
    int failures;
    {
      std::lock_guard lock(mutex_);
      failures = ++failures_[key];
      delay = backoff_.delay(failures, std::uniform_real_distribution<double>(0, 1)(random_));
    }
    spdlog::warn("reconcile {} failed (attempt {}), retrying in {} ms: {}", key, failures, delay.count(), e.what());
    again = delay;
    if (on_result_) on_result_(key.substr(0, slash), false);
  }
  // Soon back: keep the lease (the next reconcile renews it). Else let it go.
  bool keep = again && *again < lease_ / 2;
  {
    std::lock_guard lock(mutex_);
    if (keep) held_.insert(key);
    else held_.erase(key);
  }
  if (!keep) release(key);
  if (again) enqueue(key, *again);
}

}  // namespace byoc::controllers
