#include "agent/gateway_denials.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/error.h"
#include "agent/support_gateway_check.h"
#include "base/files.h"
#include "model/validate.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

GatewayDenials::GatewayDenials(fs::path file, const Clock& clock, size_t max_pending)
    : file_(std::move(file)), clock_(clock), max_pending_(max_pending) {
  std::lock_guard lock(ledger_mutex_);
  try {
    if (load()) return;
  } catch (const std::exception& e) {
    spdlog::error("{} is unreadable ({}): moved to {}.corrupt, starting a new gateway denial ledger",
                  file_.string(), e.what(), file_.string());
    std::error_code ignored;
    fs::rename(file_, fs::path(file_.string() + ".corrupt"), ignored);
    pending_.clear();
  }
  next_seq_ = std::max<int64_t>(clock_.unix_millis(), 1);
  save_locked();
}

// Reads the file: false when there is none; throws if it is corrupt.
bool GatewayDenials::load() {
  auto text = files::read_if_exists(file_);
  if (!text) return false;
  json j = json::parse(*text);
  next_seq_ = j.at("next_seq").get<int64_t>();
  const json& entries = j.at("pending");
  if (!entries.is_array()) throw Error::Internal("pending is not a list");
  // The protocol's strict parser checks each entry as the plane would, in
  // slices of what one report may carry.
  for (size_t at = 0; at < entries.size(); at += model::kMaxGatewayDenials) {
    size_t end = std::min(entries.size(), at + model::kMaxGatewayDenials);
    json slice(entries.begin() + static_cast<std::ptrdiff_t>(at), entries.begin() + static_cast<std::ptrdiff_t>(end));
    auto parsed = model::parse_sync_request({{"protocol_version", model::kProtocolVersion}, {"gateway_denials", slice}});
    for (auto& d : parsed.gateway_denials) pending_.push_back(std::move(d));
  }
  for (size_t i = 0; i < pending_.size(); ++i)
    if (pending_[i].seq >= next_seq_ || (i > 0 && pending_[i].seq <= pending_[i - 1].seq))
      throw Error::Internal("pending seqs are not increasing below next_seq");
  return true;
}

void GatewayDenials::save_locked() {
  unsaved_ = true;  // until the write succeeds
  model::SyncRequest carrier;  // the protocol's own encoding of the entries
  carrier.gateway_denials = pending_;
  json entries = model::to_json(carrier).value("gateway_denials", json::array());
  json j = {{"next_seq", next_seq_}, {"pending", entries}};
  files::write_atomic(file_, j.dump() + "\n", 0600);
  unsaved_ = false;
}

void GatewayDenials::record(const std::string& service, const std::string& reason, const std::string& serial) {
  const auto& codes = model::gateway_denial_codes();
  if (!model::is_dns1123_label(service) || std::find(codes.begin(), codes.end(), reason) == codes.end()) {
    spdlog::error("a gateway denial with a malformed service or reason was not counted");
    return;
  }
  int64_t now = clock_.unix_seconds();
  Key key{service, reason, normalized_serial(serial)};
  std::lock_guard lock(aggregate_mutex_);
  auto it = aggregate_.find(key);
  if (it == aggregate_.end() && !std::get<2>(key).empty() && aggregate_.size() >= kMaxKeys - kFoldRoom) {
    std::get<2>(key).clear();  // fold: count it without its serial
    it = aggregate_.find(key);
  }
  if (it == aggregate_.end()) {
    if (aggregate_.size() >= kMaxKeys) {
      ++unlogged_drops_;
      ++dropped_;
      return;
    }
    it = aggregate_.emplace(std::move(key), Tally{0, now, now}).first;
  }
  Tally& t = it->second;
  t.count += 1;
  // A clock stepped back widens the span rather than inverting it.
  t.first = std::min(t.first, now);
  t.last = std::max(t.last, now);
  unreported_.store(true, std::memory_order_relaxed);
  if (!std::get<2>(it->first).empty()) unreported_named_.store(true, std::memory_order_relaxed);
}

std::vector<model::GatewayDenial> GatewayDenials::pending(size_t max) {
  std::map<Key, Tally> taken;
  int64_t drops = 0;
  {
    std::lock_guard lock(aggregate_mutex_);
    taken.swap(aggregate_);
    std::swap(drops, unlogged_drops_);
    unreported_.store(false, std::memory_order_relaxed);
    unreported_named_.store(false, std::memory_order_relaxed);
  }
  if (drops > 0)
    spdlog::warn("{} gateway refusals were not counted: more distinct refusals than {} in one sync interval", drops,
                 kMaxKeys);

  std::vector<std::pair<Key, Tally>> fresh(taken.begin(), taken.end());
  std::stable_sort(fresh.begin(), fresh.end(),
                   [](const auto& a, const auto& b) { return a.second.first < b.second.first; });

  std::lock_guard lock(ledger_mutex_);
  if (!fresh.empty()) {
    unsaved_ = true;
    for (auto& [key, t] : fresh) {
      auto& [service, reason, serial] = key;
      pending_.push_back({next_seq_++, service, reason, serial, t.count, t.first, t.last});
    }
    if (pending_.size() > max_pending_) {
      auto excess = static_cast<std::ptrdiff_t>(pending_.size() - max_pending_);
      int64_t lost = 0;
      for (auto it = pending_.begin(); it != pending_.begin() + excess; ++it) lost += it->count;
      pending_.erase(pending_.begin(), pending_.begin() + excess);
      dropped_ += lost;
      spdlog::warn("dropped the {} oldest unacknowledged gateway denial entries ({} refusals): the management "
                   "plane has not acknowledged them",
                   excess, lost);
    }
  }
  if (unsaved_) save_locked();
  size_t n = std::min(max, pending_.size());
  return {pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void GatewayDenials::acknowledge(int64_t acked_seq) {
  std::lock_guard lock(ledger_mutex_);
  auto keep = std::find_if(pending_.begin(), pending_.end(), [&](const auto& d) { return d.seq > acked_seq; });
  if (keep == pending_.begin()) return;
  pending_.erase(pending_.begin(), keep);
  save_locked();
}

size_t GatewayDenials::pending_count() const {
  std::lock_guard lock(ledger_mutex_);
  return pending_.size();
}

int64_t GatewayDenials::next_seq() const {
  std::lock_guard lock(ledger_mutex_);
  return next_seq_;
}

}  // namespace byoc::agent
