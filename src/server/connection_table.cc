#include "server/connection_table.h"

namespace byoc::server {

ConnectionTable::ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

ConnectionTable::Handle ConnectionTable::admit(const std::string& source, std::function<void()> evict) {
  std::function<void()> evicted;
  auto entry = std::make_shared<Entry>();
  {
    std::lock_guard lock(mutex_);
    if (connections_ >= limits_.max_connections) return nullptr;
    ++connections_;
    entry->source = sources_.try_emplace(source).first;
    entry->evict = std::move(evict);
    Source& from = entry->source->second;
    ++from.connections;
    if (limits_.max_pending_per_source > 0 && from.pending.size() >= limits_.max_pending_per_source) {
      Entry* oldest = from.pending.front();
      unpend_locked(*oldest);
      evicted = std::move(oldest->evict);
      oldest->evict = nullptr;
    }
    pend_locked(*entry);
  }
  if (evicted) evicted();
  return entry;
}

void ConnectionTable::pend_locked(Entry& entry) {
  if (entry.pending) return;
  entry.pending = true;
  auto& list = entry.source->second.pending;
  entry.position = list.insert(list.end(), &entry);
}

void ConnectionTable::unpend_locked(Entry& entry) {
  if (!entry.pending) return;
  entry.pending = false;
  entry.source->second.pending.erase(entry.position);
}

void ConnectionTable::set_pending(const Handle& entry, bool pending) {
  std::lock_guard lock(mutex_);
  if (entry->released) return;
  if (pending) pend_locked(*entry);
  else unpend_locked(*entry);
}

void ConnectionTable::request_handshake(const Handle& entry, std::function<void()> start) {
  {
    std::lock_guard lock(mutex_);
    if (shut_ || entry->released || entry->holds_slot || entry->waiting) return;
    if (handshakes_ >= limits_.max_handshakes) {
      entry->waiting = true;
      entry->start_handshake = std::move(start);
      waiting_.push_back(entry);
      return;
    }
    ++handshakes_;
    entry->holds_slot = true;
  }
  start();
}

std::function<void()> ConnectionTable::next_handshake_locked() {
  while (!shut_ && handshakes_ < limits_.max_handshakes && !waiting_.empty()) {
    auto next = waiting_.front().lock();
    waiting_.pop_front();
    if (!next || next->released || !next->waiting) continue;
    next->waiting = false;
    next->holds_slot = true;
    ++handshakes_;
    return std::move(next->start_handshake);
  }
  return nullptr;
}

void ConnectionTable::handshake_done(const Handle& entry) {
  std::function<void()> start;
  {
    std::lock_guard lock(mutex_);
    if (!entry->holds_slot) return;
    entry->holds_slot = false;
    --handshakes_;
    start = next_handshake_locked();
  }
  if (start) start();
}

void ConnectionTable::release(const Handle& entry) {
  if (!entry) return;
  std::function<void()> start;
  {
    std::lock_guard lock(mutex_);
    if (entry->released) return;
    entry->released = true;
    unpend_locked(*entry);
    entry->waiting = false;
    entry->start_handshake = nullptr;
    entry->evict = nullptr;
    if (entry->holds_slot) {
      entry->holds_slot = false;
      --handshakes_;
      start = next_handshake_locked();
    }
    if (--entry->source->second.connections == 0) sources_.erase(entry->source);
    --connections_;
  }
  if (start) start();
}

void ConnectionTable::shut() {
  std::lock_guard lock(mutex_);
  shut_ = true;
  waiting_.clear();
}

size_t ConnectionTable::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

size_t ConnectionTable::handshakes_in_progress() const {
  std::lock_guard lock(mutex_);
  return handshakes_;
}

size_t ConnectionTable::pending_from(const std::string& source) const {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(source);
  return it == sources_.end() ? 0 : it->second.pending.size();
}

}  // namespace byoc::server
