// GenerationCache: values derived from the store (a rendered list, a verified
// token), each remembered with the Store::generation() read before the read
// that produced it, and served only while the store's generation still equals
// that value. Any committed write moves the generation on, so an entry can
// never outlive the state it was computed from: there is no expiry to tune
// and no invalidation to forget.
//
// All entries share one generation: remembering a value of a newer one drops
// the older entries (they can never be served again), a value of an older one
// is not kept. At most `capacity` entries; when full, it starts over.
//
// Thread-safe: lookups share a lock, so concurrent readers don't wait for
// each other.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace byoc::store {

template <typename Value>
class GenerationCache {
 public:
  explicit GenerationCache(size_t capacity) : capacity_(capacity) {}
  GenerationCache(const GenerationCache&) = delete;
  GenerationCache& operator=(const GenerationCache&) = delete;

  // The value remembered under `key` if it was computed at `generation`.
  std::optional<Value> find(const std::string& key, uint64_t generation) const {
    std::shared_lock lock(mutex_);
    if (generation != generation_) return std::nullopt;
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  // Remembers `value`, computed from a read that began at `generation`.
  void remember(const std::string& key, Value value, uint64_t generation) {
    std::unique_lock lock(mutex_);
    if (generation < generation_) return;
    if (generation > generation_ || entries_.size() >= capacity_) {
      entries_.clear();
      generation_ = generation;
    }
    entries_.insert_or_assign(key, std::move(value));
  }

  size_t size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
  }

 private:
  const size_t capacity_;
  mutable std::shared_mutex mutex_;
  uint64_t generation_ = 0;  // of every entry
  std::unordered_map<std::string, Value> entries_;
};

}  // namespace byoc::store
