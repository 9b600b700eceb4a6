// Runner: drives reconcilers from a work queue keyed by resource
// ("environment/env-…"). A key is never reconciled by two workers at once:
// in-process by the queue, across server processes by a lease in the store.
// Adding a key that is queued or in flight coalesces. Failures retry with
// backoff and jitter; every key a lister returns is also re-queued
// periodically (resync), so the system is level-triggered: after a restart it
// just compares again. A resync spreads its keys evenly over the period
// rather than queueing thousands at once, and the queue is ordered by due
// time, so picking the next key costs O(log n) however many are waiting.
//
// Leases: a server keeps the lease of a key it will look at again within
// half the lease (a provisioning it is driving step by step), renewing it at
// each reconcile, so another server doesn't interleave its own steps; it
// releases it when the key settles, its next look is further off, or the
// runner stops. A reconcile that runs long (a slow store) has its lease
// renewed every third of a lease while it runs, so it never outlives it. A
// key leased elsewhere is tried again when that lease runs out (on the
// lease's own clock), so a server that died mid-work is taken over one
// lease after its last renewal.
//
// Threading: enqueue() from any thread; start()/stop() from one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "controllers/backoff.h"
#include "controllers/reconciler.h"
#include "store/store.h"

namespace byoc::controllers {

class Runner {
 public:
  Runner(store::Store& store, const Clock& clock, std::string holder, int workers = 2,
         std::chrono::seconds lease = kDefaultLease);
  static constexpr std::chrono::seconds kDefaultLease{30};
  ~Runner();

  // Registers the reconciler for keys "<kind>/<id>". Call before start().
  void add(const std::string& kind, Reconciler* reconciler);
  // `lister` returns the ids of `kind` to look at again each period: every id
  // whose reconcile could change something (it may leave out ids it knows to
  // be settled, e.g. READY with nothing running and nothing to observe).
  void add_resync(const std::string& kind, std::function<std::vector<std::string>()> lister);

  // Called after each reconcile with the kind and whether it succeeded (metrics).
  void on_result(std::function<void(const std::string& kind, bool ok)> callback) { on_result_ = std::move(callback); }

  void start(std::chrono::milliseconds resync_period = std::chrono::seconds(10));
  void stop();

  void enqueue(const std::string& key, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // Queues many keys under one lock, spread evenly over `over`; keys already
  // queued or in flight are left as they are.
  void enqueue_spread(const std::vector<std::string>& keys, std::chrono::milliseconds over);

  // Number of keys waiting or in flight (for tests and metrics).
  size_t pending() const;
  // Number of keys waiting for their time, none of them in flight: once a
  // failed key is here, its retry is on the clock (for tests).
  size_t waiting() const;

 private:
  void work();
  void resync_loop(std::chrono::milliseconds period);
  // Renews the leases of reconciles in flight for longer than a third of a lease.
  void keep_leases_loop();
  void run_one(const std::string& key);
  // Takes (or renews) the key's lease; false (and requeued for when the
  // other holder's lease ends) if another server holds it.
  bool lease(const std::string& key);
  void release(const std::string& key);
  // Sets (or moves earlier) the due time of a key not in flight; mutex_ held.
  void schedule_locked(const std::string& key, MonotonicTime when);

  store::Store& store_;
  const Clock& clock_;
  std::string holder_;
  int worker_count_;
  std::chrono::seconds lease_;
  Backoff backoff_;
  std::map<std::string, Reconciler*> reconcilers_;
  std::map<std::string, std::function<std::vector<std::string>()>> listers_;
  std::function<void(const std::string&, bool)> on_result_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;       // workers: a key became due, or stop
  std::condition_variable resync_cv_;  // the resync and lease loops: stop only (apart from
                                       // cv_, or notify_one could wake one instead of a worker)
  std::map<std::string, MonotonicTime> due_;  // queued keys and when they may run
  std::set<std::pair<MonotonicTime, std::string>> order_;  // the same, by due time
  std::map<std::string, MonotonicTime> in_flight_;  // since when
  std::set<std::string> dirty_;            // re-added while in flight
  std::map<std::string, int> failures_;
  std::set<std::string> held_;             // leases kept between reconciles
  std::mt19937_64 random_{std::random_device{}()};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace byoc::controllers
