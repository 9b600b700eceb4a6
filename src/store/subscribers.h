// The subscribers of one store (store.h: Subscriber), shared by the backends:
// added before serving, called in order for each message; one that throws
// is logged and doesn't keep the message from the others. clear() waits for
// the deliveries in progress.
//
// Thread-safe; deliveries run side by side.
#pragma once

#include <spdlog/spdlog.h>

#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace byoc::store {

class Subscribers {
 public:
  void add(Subscriber subscriber) {
    std::unique_lock lock(mutex_);
    subscribers_.push_back(std::move(subscriber));
  }

  void clear() {
    std::unique_lock lock(mutex_);
    subscribers_.clear();
  }

  // Never throws: a subscriber's failure is logged.
  void deliver(const std::string& topic, const std::string& message) const noexcept {
    std::shared_lock lock(mutex_);
    for (const auto& s : subscribers_) {
      try {
        s(topic, message);
      } catch (const std::exception& e) {
        spdlog::error("store subscriber failed on '{}': {}", topic, e.what());
      } catch (...) {
        spdlog::error("store subscriber failed on '{}'", topic);
      }
    }
  }

 private:
  mutable std::shared_mutex mutex_;
  std::vector<Subscriber> subscribers_;
};

}  // namespace byoc::store
