// Requests the support gateways refused, on their way to the management
// plane's audit log (DESIGN §3): counted, never the request itself.
//
// record() adds one refusal to an in-memory aggregate keyed by (service,
// reason, serial) with a count and the first and last time (Unix seconds
// from the Clock). pending() numbers what was aggregated since the last
// call, one model::GatewayDenial per key, with a persistent seq
// (numbered_ledger.h: saved before pending() returns, a fresh ledger's seqs
// start at the clock's milliseconds, a corrupt file is set aside). Refusals
// recorded but not yet numbered when the agent dies are lost (at most one
// sync interval).
//
// Bounds, so that a flood of refusals (each TLS failure may show a new
// serial, which the client chooses) costs bounded memory and disk:
//  - the aggregate holds at most kMaxKeys keys. A refusal with a serial
//    whose key is new once kMaxKeys - kFoldRoom keys are held is folded into
//    (service, reason, "") — counted, its serial not kept; a new key without
//    a serial once kMaxKeys are held is dropped, counted in dropped() and
//    logged as a warning at the next pending(). Services are the gateway's
//    own (only our nginx knows the check key) and there are 9 reasons, so
//    nothing is dropped unless more than kFoldRoom / 9 services see refusals
//    of every kind within one sync interval;
//  - the unacknowledged list holds at most kMaxPending entries: beyond it
//    the oldest are dropped (never merged: a seq, once reported, must keep
//    its content), with a warning and dropped() counting their refusals.
//
// Threading: record() and has_unreported() may be called from any thread
// (the gateway check's); pending(), acknowledge() and the readers from one
// other thread (the sync loop). record() never waits on the disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "agent/numbered_ledger.h"
#include "base/clock.h"
#include "model/protocol.h"

namespace byoc::agent {

class GatewayDenials {
 public:
  static constexpr size_t kMaxKeys = 256;
  static constexpr size_t kFoldRoom = 128;  // keys kept for (service, reason, "")
  static constexpr size_t kMaxPending = 10'000;

  // Opens (or creates, seeding the seq from `clock`) the ledger in `file`.
  // `max_pending` is kMaxPending but for tests.
  GatewayDenials(std::filesystem::path file, const Clock& clock, size_t max_pending = kMaxPending);

  // Counts one refusal. `serial` goes through normalized_serial(); a
  // service that is not a DNS-1123 label or a reason outside
  // model::gateway_denial_codes() is a caller's bug: logged and dropped, so
  // that no report carries what the plane would reject.
  void record(const std::string& service, const std::string& reason, const std::string& serial);

  // Whether refusals were recorded since the last pending() (cheap: the
  // sync loop may report early when this turns true).
  bool has_unreported() const { return ledger_.has_unreported(); }
  // The same for refusals that name a certificate (its serial kept): an
  // engineer's, worth an early report. Refusals of nobody in particular —
  // which anyone who can reach a gateway can cause at will — wait for the
  // next regular sync, so they can't make the agent sync (and the plane
  // append) every second.
  bool has_unreported_named() const { return unreported_named_.load(std::memory_order_relaxed); }

  // Numbers what was recorded since the last call (in order of first
  // refusal), persists, and returns the oldest unacknowledged entries in
  // seq order, at most `max`. Throws byoc::Error if the file can't be
  // written (the new entries stay pending in memory and are saved next time).
  std::vector<model::GatewayDenial> pending(size_t max);

  // Drops every entry with seq ≤ `acked_seq` (persisting if any went).
  void acknowledge(int64_t acked_seq);

  size_t pending_count() const;
  int64_t next_seq() const;
  // Refusals counted but lost to the bounds above, since this object was made.
  int64_t dropped() const { return ledger_.dropped(); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // service, reason, serial

  std::atomic<bool> unreported_named_{false};
  CountedLedger<Key, model::GatewayDenial> ledger_;
};

}  // namespace byoc::agent
