// The Kubernetes API requests of kubernetes-readonly grants (allowed or
// refused by the agent's support proxy, kube_support_proxy.h), on their way
// to the management plane's audit log: what was asked as the API server's
// authorizer names it, the decision and the status — never a body, a header
// or a query value.
//
// record() counts one request in an in-memory aggregate keyed by everything
// a model::KubeRequest says but its counters, with a count and the first and
// last time (Unix seconds from the Clock); pending() numbers what was
// counted since the last call, one entry per key, with a persistent seq, and
// acknowledge() drops what the plane has appended (numbered_ledger.h: the
// file, its seqs across restarts, a corrupt file set aside). Requests
// counted but not yet numbered when the agent dies are lost (at most one
// sync interval).
//
// Bounds: only engineers holding a certificate of the support CA reach the
// proxy, but they choose names and paths freely. The aggregate holds at most
// kMaxKeys keys: a request whose key is new once kMaxKeys - kFoldRoom keys
// are held is counted without its name and path; a new key without them
// once kMaxKeys are held is dropped, counted in dropped() and logged at the
// next pending(). The unacknowledged list holds at most kMaxPending entries
// (the oldest dropped beyond it, with a warning).
//
// Threading: record() and has_unreported() may be called from any thread
// (the proxy's); pending(), acknowledge() and the readers from one other
// thread (the sync loop). record() never waits on the disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "agent/numbered_ledger.h"
#include "base/clock.h"
#include "model/protocol.h"

namespace byoc::agent {

class KubeRequests {
 public:
  static constexpr size_t kMaxKeys = 1024;
  static constexpr size_t kFoldRoom = 256;  // keys kept for requests counted without name and path
  static constexpr size_t kMaxPending = 10'000;

  // Opens (or creates, seeding the seq from `clock`) the ledger in `file`.
  // `max_pending` is kMaxPending but for tests.
  KubeRequests(std::filesystem::path file, const Clock& clock, size_t max_pending = kMaxPending);

  // Counts one request (its seq, count, first and last are not read). What
  // the protocol would refuse is made to fit rather than lost: a text byte
  // outside printable ASCII (or a space) becomes '?', a text too long is cut
  // to its bound, a malformed grant id or serial is left out, a decision
  // that is not a code becomes "unknown", a status outside 0-599 is 0.
  void record(model::KubeRequest request);

  // Whether requests were counted since the last pending(): the sync loop
  // reports early when this turns true.
  bool has_unreported() const { return ledger_.has_unreported(); }

  // Numbers what was counted since the last call (in order of first
  // request), persists, and returns the oldest unacknowledged entries in
  // seq order, at most `max`. Throws byoc::Error if the file can't be
  // written (the new entries stay pending in memory and are saved next time).
  std::vector<model::KubeRequest> pending(size_t max);

  // Drops every entry with seq ≤ `acked_seq` (persisting if any went).
  void acknowledge(int64_t acked_seq);

  size_t pending_count() const;
  int64_t next_seq() const;
  // Requests counted but lost to the bounds above, since this object was made.
  int64_t dropped() const { return ledger_.dropped(); }

 private:
  CountedLedger<model::KubeRequest, model::KubeRequest> ledger_;  // keys: entries with zero counters
};

}  // namespace byoc::agent
