#include "agent/usage.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<RunningReplica> running_replicas(const std::vector<ServiceStatus>& observed,
                                             const std::map<std::string, ServiceSpec>& applied) {
  std::vector<RunningReplica> out;
  for (const auto& service : observed) {
    auto spec = applied.find(service.name);
    if (spec == applied.end()) continue;
    for (const auto& r : service.replicas)
      if (r.state == ReplicaState::kRunning)
        out.push_back({service.name, r.shard, r.replica, spec->second.cpu_millis, spec->second.memory_mib});
  }
  return out;
}

int64_t UsageMeter::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.system_time().time_since_epoch()).count();
}

void UsageMeter::sample(const std::vector<RunningReplica>& running) {
  std::vector<RunningReplica> now_running = running;
  std::sort(now_running.begin(), now_running.end());
  now_running.erase(std::unique(now_running.begin(), now_running.end()), now_running.end());
  std::lock_guard lock(mutex_);
  int64_t now = now_ms();
  if (last_sample_ms_ && now > *last_sample_ms_) {
    int64_t elapsed = now - *last_sample_ms_;
    for (const auto& r : now_running) {
      if (!std::binary_search(last_running_.begin(), last_running_.end(), r)) continue;
      auto [it, fresh] = open_.try_emplace(r);
      if (fresh) it->second.start_ms = *last_sample_ms_;
      it->second.last_ms = now;
      it->second.cpu_units += int64_t{r.cpu_millis} * elapsed;
      it->second.memory_units += int64_t{r.memory_mib} * elapsed;
    }
  }
  // A clock that stepped back only shortens the next gap; nothing is undone.
  if (!last_sample_ms_ || now >= *last_sample_ms_) last_sample_ms_ = now;
  last_running_ = std::move(now_running);
}

std::vector<Accrual> UsageMeter::cut() {
  std::lock_guard lock(mutex_);
  std::vector<Accrual> out;
  for (auto it = open_.begin(); it != open_.end();) {
    Open& o = it->second;
    int64_t cpu = o.cpu_units / 1000;
    int64_t memory = o.memory_units / 1000;
    if (cpu > 0 || memory > 0) {
      int64_t start = o.start_ms / 1000;
      int64_t end = std::max(start, (o.last_ms + 999) / 1000);
      out.push_back({it->first.service, it->first.shard, it->first.replica, start, end, cpu, memory});
      o.cpu_units -= cpu * 1000;
      o.memory_units -= memory * 1000;
      o.start_ms = o.last_ms;
    }
    bool still_running = std::binary_search(last_running_.begin(), last_running_.end(), it->first);
    // A stopped replica's sub-unit remainder is dropped once nothing more can accrue.
    it = still_running ? std::next(it) : open_.erase(it);
  }
  return out;
}

UsageLedger::UsageLedger(fs::path file, const Clock& clock) : file_(std::move(file)) {
  auto text = files::read_if_exists(file_);
  if (!text) {
    next_seq_ = std::chrono::duration_cast<std::chrono::milliseconds>(clock.system_time().time_since_epoch()).count();
    next_seq_ = std::max<int64_t>(next_seq_, 1);
    save();
    return;
  }
  try {
    json j = json::parse(*text);
    next_seq_ = j.at("next_seq").get<int64_t>();
    const json& t = j.at("totals");
    totals_ = {t.at("intervals").get<int64_t>(), t.at("cpu_millis_seconds").get<int64_t>(),
               t.at("memory_mib_seconds").get<int64_t>()};
    // Reuse the protocol's strict parser for the intervals themselves.
    model::SyncRequest check = model::parse_sync_request(
        {{"protocol_version", model::kProtocolVersion}, {"usage", j.at("pending")}});
    pending_ = std::move(check.usage);
  } catch (const std::exception& e) {
    throw Error::Internal(file_.string() + " is corrupt (" + e.what() +
                          "); move it away to start a new ledger");
  }
  for (const auto& u : pending_)
    if (u.seq >= next_seq_)
      throw Error::Internal(file_.string() +
                            " is corrupt (a pending seq is not below next_seq); move it away");
}

void UsageLedger::save() const {
  json pending = json::array();
  for (const auto& u : pending_) pending.push_back(model::to_json(u));
  json j = {{"next_seq", next_seq_},
            {"totals",
             {{"intervals", totals_.intervals},
              {"cpu_millis_seconds", totals_.cpu_millis_seconds},
              {"memory_mib_seconds", totals_.memory_mib_seconds}}},
            {"pending", pending}};
  files::write_atomic(file_, j.dump() + "\n", 0600);
}

void UsageLedger::record(const std::vector<Accrual>& accruals) {
  if (accruals.empty()) return;
  for (const auto& a : accruals) {
    pending_.push_back({next_seq_++, a.service, a.shard, a.replica, a.start, a.end, a.cpu_millis_seconds,
                        a.memory_mib_seconds});
    totals_.intervals += 1;
    totals_.cpu_millis_seconds += a.cpu_millis_seconds;
    totals_.memory_mib_seconds += a.memory_mib_seconds;
  }
  save();
}

std::vector<model::UsageInterval> UsageLedger::pending(size_t limit) const {
  size_t n = std::min(limit, pending_.size());
  return {pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void UsageLedger::acknowledge(int64_t acked_seq) {
  auto keep =
      std::find_if(pending_.begin(), pending_.end(), [&](const auto& u) { return u.seq > acked_seq; });
  if (keep == pending_.begin()) return;
  pending_.erase(pending_.begin(), keep);
  save();
}

}  // namespace byoc::agent
