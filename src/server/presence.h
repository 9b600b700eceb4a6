// AgentPresence: which environments have an agent connected right now, kept
// in memory (a sync held open or one finished within the grace period). The
// `agent_connected` condition in the store changes only on transitions, so a
// long-poll loop writes nothing while nothing changes.
//
// Thread-safe; time comes from the injected clock.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"

namespace byoc::server {

class AgentPresence {
 public:
  explicit AgentPresence(const Clock& clock, int64_t grace_seconds = 45) : clock_(clock), grace_(grace_seconds) {}

  void begin(const std::string& environment_id);  // a sync request arrived
  void end(const std::string& environment_id);    // its answer was sent
  bool connected(const std::string& environment_id) const;
  // Environments seen before whose agent is no longer connected; they are
  // forgotten by this call.
  std::vector<std::string> take_disconnected();
  size_t connected_count() const;

 private:
  struct Entry {
    int active = 0;
    int64_t last_seen = 0;
  };
  bool alive(const Entry& e, int64_t now) const { return e.active > 0 || now - e.last_seen <= grace_; }
  const Clock& clock_;
  int64_t grace_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace byoc::server
