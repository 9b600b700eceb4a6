#include "server/plane.h"

#include <algorithm>

#include "model/protocol.h"
#include "model/topics.h"

namespace byoc::server {

PlaneMembership::PlaneMembership(store::Store& store, const Clock& clock, std::string server_id, std::string url)
    : store_(store), clock_(clock), id_(std::move(server_id)), url_(std::move(url)), started_at_(clock.unix_seconds()) {}

void PlaneMembership::heartbeat() {
  std::vector<store::ServerRecord> all;
  int64_t now = clock_.unix_seconds();
  bool announce = false;
  {
    std::lock_guard lock(mutex_);
    announce = !announced_;
  }
  store_.transact([&](store::Transaction& tx) {
    tx.servers().put({id_, url_, started_at_, now});
    all = tx.servers().list();
    // A server gone for a day is not coming back under that name.
    for (const auto& s : all)
      if (now - s.heartbeat_at > kForgetAfterSeconds) tx.servers().remove(s.id);
    if (announce) tx.publish(model::topics::kServers, id_);
  });
  std::lock_guard lock(mutex_);
  announced_ = true;
  last_heartbeat_ = now;
  keep_live(all, now);
}

void PlaneMembership::refresh() {
  std::vector<store::ServerRecord> all;
  store_.read([&](store::Transaction& tx) { all = tx.servers().list(); });
  std::lock_guard lock(mutex_);
  keep_live(all, clock_.unix_seconds());
}

void PlaneMembership::keep_live(const std::vector<store::ServerRecord>& all, int64_t now) {
  live_.clear();
  for (const auto& s : all)
    if (s.id != id_ && now - s.heartbeat_at <= kDeadAfterSeconds) live_.push_back(s);
}

void PlaneMembership::leave() {
  store_.transact([&](store::Transaction& tx) {
    tx.servers().remove(id_);
    tx.publish(model::topics::kServers, id_);
  });
}

std::vector<PlaneMembership::Member> PlaneMembership::members() const {
  std::lock_guard lock(mutex_);
  std::vector<Member> out{{id_, url_, started_at_, last_heartbeat_}};
  for (const auto& s : live_) out.push_back({s.id, s.url, s.started_at, s.heartbeat_at});
  return out;
}

std::vector<std::string> PlaneMembership::urls() const {
  std::vector<std::string> out;
  if (!url_.empty()) out.push_back(url_);
  std::lock_guard lock(mutex_);
  for (const auto& s : live_)
    if (out.size() < model::kMaxPlaneServers && !s.url.empty() && std::find(out.begin(), out.end(), s.url) == out.end())
      out.push_back(s.url);
  return out;
}

bool PlaneMembership::alive(const std::string& server_id) const {
  if (server_id == id_) return true;
  std::lock_guard lock(mutex_);
  return std::any_of(live_.begin(), live_.end(), [&](const store::ServerRecord& s) { return s.id == server_id; });
}

}  // namespace byoc::server
