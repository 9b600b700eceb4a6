// PlaneMembership: this server's row among the servers of its plane (the
// servers sharing one store), renewed on the injected clock, and the plane's
// live servers as last read. A server is live while its heartbeat is younger
// than kDeadAfter; a server stopped cleanly leaves at once.
//
// What it feeds: the server URLs agents get in join and sync answers (to fail
// over among), the local driver (an agent dialling no live server is out of
// date) and agent presence (a session held by a dead server is nobody's).
//
// Thread-safe; heartbeat() does one small write transaction.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "store/store.h"

namespace byoc::server {

class PlaneMembership {
 public:
  static constexpr std::chrono::seconds kHeartbeat{10};
  static constexpr int64_t kDeadAfterSeconds = 35;
  static constexpr int64_t kForgetAfterSeconds = 24 * 3600;

  // `url`: where agents and the other servers reach this one; empty when
  // it has no address worth handing out (a wildcard listen without
  // --advertise): then agents are told only of the others.
  PlaneMembership(store::Store& store, const Clock& clock, std::string server_id, std::string url);

  // Renews this server's row and re-reads the plane; the first one (a server
  // joining) tells the other servers. Throws on a store error.
  void heartbeat();
  // Re-reads the plane without writing (another server joined or left).
  void refresh();
  // Removes this server's row (a clean stop) and tells the other servers.
  void leave();

  struct Member {
    std::string id;
    std::string url;
    int64_t started_at = 0;
    int64_t heartbeat_at = 0;
  };
  // The live servers as of the last read, this one first.
  std::vector<Member> members() const;

  const std::string& id() const { return id_; }
  const std::string& url() const { return url_; }
  // The live servers' URLs as of the last heartbeat, this one's first (at
  // most model::kMaxPlaneServers; servers without an address left out).
  std::vector<std::string> urls() const;
  // Whether `server_id` was live at the last heartbeat (this server always is).
  bool alive(const std::string& server_id) const;

 private:
  store::Store& store_;
  const Clock& clock_;
  const std::string id_;
  const std::string url_;
  const int64_t started_at_;
  mutable std::mutex mutex_;
  std::vector<store::ServerRecord> live_;  // others, by id
  int64_t last_heartbeat_ = 0;
  bool announced_ = false;
  void keep_live(const std::vector<store::ServerRecord>& all, int64_t now);
};

}  // namespace byoc::server
