// The subscribers of one store (store.h: Subscriber), shared by the backends:
// added before serving, called in order for each message; one that throws
// is logged and doesn't keep the message from the others.
//
// Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace byoc::store {

class Subscribers {
 public:
  void add(Subscriber subscriber) {
    std::lock_guard lock(mutex_);
    subscribers_.push_back(std::move(subscriber));
  }

  void deliver(const std::string& topic, const std::string& message) const {
    std::vector<Subscriber> now;
    {
      std::lock_guard lock(mutex_);
      now = subscribers_;
    }
    for (const auto& s : now) {
      try {
        s(topic, message);
      } catch (const std::exception& e) {
        spdlog::error("store subscriber failed on '{}': {}", topic, e.what());
      }
    }
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Subscriber> subscribers_;
};

}  // namespace byoc::store
