// What the agent's ledgers of counted events share (gateway refusals,
// gateway_denials.h; Kubernetes API requests, kube_requests.h): events are
// counted per key in memory, bounded (TallyMap), and the sync loop numbers
// what was counted with a persistent seq (NumberedLedger) and reports it
// until the plane acknowledges it; the plane appends each seq once.
// CountedLedger is the two together.
//
// NumberedLedger keeps one file written atomically (0600): the next seq and
// every entry not acknowledged, saved before number() returns, so a seq is
// never reused across restarts and a retried report carries the same seqs.
// A fresh ledger starts its seqs at the clock's Unix milliseconds, so an
// agent whose state was lost doesn't reuse its predecessor's. A file that
// cannot be read or parsed is logged, moved aside to <file>.corrupt and a
// fresh ledger started: an unreadable count must not keep the agent, and so
// every service's management, down. At most `max_pending` entries are kept:
// beyond it the oldest are dropped (never merged: a seq, once reported, must
// keep its content), with a warning.
//
// Threading: TallyMap is not synchronized (its owner locks); NumberedLedger
// is thread-safe; CountedLedger's count() and has_unreported() may be
// called from any thread, the rest from one other (the sync loop), and
// count() never waits on the disk.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace byoc::agent {

struct Tally {
  int64_t count = 0;
  int64_t first = 0;  // Unix seconds of the first and last event counted
  int64_t last = 0;
};

// Counts per key, at most `max_keys` keys. Once `max_keys - fold_room` keys
// are held a new key is counted under its folded form (the same key with its
// most variable parts left out) — and once `max_keys` are held, a new folded
// key too is dropped.
template <typename Key>
class TallyMap {
 public:
  TallyMap(size_t max_keys, size_t fold_room) : max_keys_(max_keys), fold_room_(fold_room) {}

  // Counts one event at `now`; the key it was counted under, or nullptr when
  // it was dropped.
  const Key* add(const Key& key, const Key& folded, int64_t now) {
    auto it = tallies_.find(key);
    if (it == tallies_.end() && !(key == folded) && tallies_.size() >= max_keys_ - fold_room_)
      it = tallies_.find(folded);
    if (it == tallies_.end()) {
      if (tallies_.size() >= max_keys_) return nullptr;
      const Key& counted = tallies_.size() >= max_keys_ - fold_room_ ? folded : key;
      it = tallies_.emplace(counted, Tally{0, now, now}).first;
    }
    Tally& t = it->second;
    t.count += 1;
    // A clock stepped back widens the span rather than inverting it.
    t.first = std::min(t.first, now);
    t.last = std::max(t.last, now);
    return &it->first;
  }

  // What was counted, in order of first event, and a fresh start.
  std::vector<std::pair<Key, Tally>> take() {
    std::vector<std::pair<Key, Tally>> out(tallies_.begin(), tallies_.end());
    tallies_.clear();
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
    return out;
  }

 private:
  const size_t max_keys_;
  const size_t fold_room_;
  std::map<Key, Tally> tallies_;
};

// `Entry` has `seq` and `count`; numbered_ledger.cc instantiates it for the
// protocol's entries it knows how to store (model::GatewayDenial,
// model::KubeRequest).
template <typename Entry>
class NumberedLedger {
 public:
  // Opens (or creates, seeding the seq from `clock`) the ledger in `file`;
  // `what` names its entries in logs ("gateway denial").
  NumberedLedger(std::filesystem::path file, const Clock& clock, size_t max_pending, std::string what);

  // Gives each of `fresh` the next seq, in order, drops the oldest entries
  // beyond max_pending (the events they counted are added to `lost`),
  // persists, and returns the oldest unacknowledged entries in seq order, at
  // most `max`. Throws byoc::Error if the file can't be written (the entries
  // stay in memory and are saved next time).
  std::vector<Entry> number(std::vector<Entry> fresh, size_t max, int64_t& lost);

  // Drops every entry with seq ≤ `acked_seq` (persisting if any went).
  void acknowledge(int64_t acked_seq);

  size_t pending_count() const;
  int64_t next_seq() const;

 private:
  bool load();
  void save_locked();

  const std::filesystem::path file_;
  const size_t max_pending_;
  const std::string what_;
  mutable std::mutex mutex_;  // guards everything below; held while saving
  int64_t next_seq_ = 1;
  std::vector<Entry> pending_;  // seq order
  bool unsaved_ = false;        // pending_ differs from the file (a failed write)
};

// Events counted per Key (at most max_keys, fold_room of them for folded
// keys: TallyMap), numbered as Entry when the sync loop takes them.
template <typename Key, typename Entry>
class CountedLedger {
 public:
  // `what` names one event in logs ("gateway refusal").
  CountedLedger(std::filesystem::path file, const Clock& clock, size_t max_keys, size_t fold_room,
                size_t max_pending, std::string what)
      : clock_(clock),
        what_(what),
        max_keys_(max_keys),
        tallies_(max_keys, fold_room),
        ledger_(std::move(file), clock, max_pending, std::move(what)) {}

  // Counts one event now; the key it was counted under, or nullopt when the
  // bounds dropped it (counted in dropped(), logged at the next pending()).
  std::optional<Key> count(const Key& key, const Key& folded) {
    std::lock_guard lock(mutex_);
    const Key* counted = tallies_.add(key, folded, clock_.unix_seconds());
    if (!counted) {
      ++unlogged_drops_;
      ++dropped_;
      return std::nullopt;
    }
    unreported_.store(true, std::memory_order_relaxed);
    return *counted;
  }

  // Whether events were counted since the last pending().
  bool has_unreported() const { return unreported_.load(std::memory_order_relaxed); }

  // Numbers what was counted since the last call (`entry_of` makes each
  // key's entry; its seq is set here), persists, and returns the oldest
  // unacknowledged entries in seq order, at most `max`. Throws byoc::Error
  // if the file can't be written (the new entries stay pending in memory and
  // are saved next time).
  std::vector<Entry> pending(size_t max, const std::function<Entry(const Key&, const Tally&)>& entry_of) {
    std::vector<std::pair<Key, Tally>> taken;
    int64_t drops = 0;
    {
      std::lock_guard lock(mutex_);
      taken = tallies_.take();
      std::swap(drops, unlogged_drops_);
      unreported_.store(false, std::memory_order_relaxed);
    }
    if (drops > 0)
      spdlog::warn("{} {} events were not counted: more distinct ones than {} in one sync interval", drops, what_,
                   max_keys_);
    std::vector<Entry> fresh;
    for (const auto& [key, tally] : taken) fresh.push_back(entry_of(key, tally));
    int64_t lost = 0;
    try {
      auto out = ledger_.number(std::move(fresh), max, lost);
      dropped_ += lost;
      return out;
    } catch (...) {
      dropped_ += lost;
      throw;
    }
  }

  void acknowledge(int64_t acked_seq) { ledger_.acknowledge(acked_seq); }
  size_t pending_count() const { return ledger_.pending_count(); }
  int64_t next_seq() const { return ledger_.next_seq(); }
  // Events counted but lost to the bounds, since this object was made.
  int64_t dropped() const { return dropped_.load(); }

 private:
  const Clock& clock_;
  const std::string what_;
  const size_t max_keys_;
  std::mutex mutex_;  // guards tallies_ and unlogged_drops_
  TallyMap<Key> tallies_;
  int64_t unlogged_drops_ = 0;  // dropped since the last warning
  std::atomic<bool> unreported_{false};
  std::atomic<int64_t> dropped_{0};
  NumberedLedger<Entry> ledger_;
};

}  // namespace byoc::agent
