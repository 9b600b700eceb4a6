// ConnectionTable: the listener's accounting of its connections, which keeps
// connections that do nothing from shutting others out.
//
// - At most `max_connections` at once; one beyond is refused.
// - A connection is *pending* while it has sent nothing yet (no TLS
//   ClientHello) or is sending a request head. One source (client address)
//   holds at most `max_pending_per_source` pending connections: a new one
//   from a source at its limit closes that source's oldest pending one, so
//   a flood of idle or slowloris connections costs its sender its own
//   connections, never anyone's new one.
// - TLS handshakes (CPU work) run at most `max_handshakes` at once, in
//   arrival order; a connection asks for a slot only once its ClientHello is
//   there, so idle connections never take one.
// Every pending state also has a deadline in the listener, so nothing is
// held for long whatever the limits.
//
// No I/O, no Boost: callbacks do the closing. Thread-safe; callbacks are
// invoked without the table's lock held, on the calling thread.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace byoc::server {

struct ConnectionLimits {
  size_t max_connections = 100'000;
  size_t max_pending_per_source = 1024;
  size_t max_handshakes = 128;
};

class ConnectionTable {
 public:
  class Entry;
  using Handle = std::shared_ptr<Entry>;

  explicit ConnectionTable(ConnectionLimits limits);

  // Registers a connection from `source`, pending from now on. nullptr when
  // the table is full (the caller closes it). `evict` is called (once, from
  // any thread) if a newer pending connection from the same source needs its
  // place; it must close the connection soon, without calling back in.
  Handle admit(const std::string& source, std::function<void()> evict);
  // Whether the connection counts as pending (and may be evicted).
  void set_pending(const Handle& entry, bool pending);
  // Calls `start` now or when a slot frees, in arrival order.
  void request_handshake(const Handle& entry, std::function<void()> start);
  // The handshake finished (either way): its slot goes to the next in line.
  void handshake_done(const Handle& entry);
  // The connection is gone: frees whatever it held. Idempotent.
  void release(const Handle& entry);
  // The listener is going away: no queued handshake is started any more.
  void shut();

  size_t connections() const;
  size_t handshakes_in_progress() const;
  size_t pending_from(const std::string& source) const;

 private:
  struct Source {
    size_t connections = 0;
    std::list<Entry*> pending;  // oldest first
  };
  // Takes the next slot holder off the queue; called with the lock held.
  std::function<void()> next_handshake_locked();
  void unpend_locked(Entry& entry);
  void pend_locked(Entry& entry);

  ConnectionLimits limits_;
  mutable std::mutex mutex_;
  size_t connections_ = 0;
  size_t handshakes_ = 0;
  bool shut_ = false;
  std::map<std::string, Source> sources_;
  std::deque<std::weak_ptr<Entry>> waiting_;  // for a handshake slot
};

class ConnectionTable::Entry {
 private:
  friend class ConnectionTable;
  std::map<std::string, Source>::iterator source;  // stable: erased with its last connection
  std::function<void()> evict;
  std::function<void()> start_handshake;
  bool released = false;
  bool pending = false;
  bool waiting = false;
  bool holds_slot = false;
  std::list<Entry*>::iterator position;  // in its source's pending list while pending
};

}  // namespace byoc::server
