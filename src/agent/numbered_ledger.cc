#include "agent/numbered_ledger.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <system_error>

#include "base/error.h"
#include "base/files.h"
#include "model/protocol.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Entries are stored as the protocol encodes them, and read back through its
// strict parser, in slices of what one report may carry: what the file
// holds is what the plane would accept.
json encode(const std::vector<model::GatewayDenial>& entries) {
  model::SyncRequest carrier;
  carrier.gateway_denials = entries;
  return model::to_json(carrier).value("gateway_denials", json::array());
}
json encode(const std::vector<model::KubeRequest>& entries) {
  model::SyncRequest carrier;
  carrier.kube_requests = entries;
  return model::to_json(carrier).value("kube_requests", json::array());
}

void decode(const json& slice, std::vector<model::GatewayDenial>& out) {
  auto parsed = model::parse_sync_request({{"protocol_version", model::kProtocolVersion}, {"gateway_denials", slice}});
  for (auto& d : parsed.gateway_denials) out.push_back(std::move(d));
}
void decode(const json& slice, std::vector<model::KubeRequest>& out) {
  auto parsed = model::parse_sync_request({{"protocol_version", model::kProtocolVersion}, {"kube_requests", slice}});
  for (auto& k : parsed.kube_requests) out.push_back(std::move(k));
}
constexpr size_t kSlice = std::min(model::kMaxGatewayDenials, model::kMaxKubeRequests);

}  // namespace

template <typename Entry>
NumberedLedger<Entry>::NumberedLedger(fs::path file, const Clock& clock, size_t max_pending, std::string what)
    : file_(std::move(file)), max_pending_(max_pending), what_(std::move(what)) {
  std::lock_guard lock(mutex_);
  try {
    if (load()) return;
  } catch (const std::exception& e) {
    spdlog::error("{} is unreadable ({}): moved to {}.corrupt, starting a new {} ledger", file_.string(), e.what(),
                  file_.string(), what_);
    std::error_code ignored;
    fs::rename(file_, fs::path(file_.string() + ".corrupt"), ignored);
    pending_.clear();
  }
  next_seq_ = std::max<int64_t>(clock.unix_millis(), 1);
  save_locked();
}

// Reads the file: false when there is none; throws if it is corrupt.
template <typename Entry>
bool NumberedLedger<Entry>::load() {
  auto text = files::read_if_exists(file_);
  if (!text) return false;
  json j = json::parse(*text);
  next_seq_ = j.at("next_seq").get<int64_t>();
  const json& entries = j.at("pending");
  if (!entries.is_array()) throw Error::Internal("pending is not a list");
  for (size_t at = 0; at < entries.size(); at += kSlice) {
    size_t end = std::min(entries.size(), at + kSlice);
    decode(json(entries.begin() + static_cast<std::ptrdiff_t>(at), entries.begin() + static_cast<std::ptrdiff_t>(end)),
           pending_);
  }
  for (size_t i = 0; i < pending_.size(); ++i)
    if (pending_[i].seq >= next_seq_ || (i > 0 && pending_[i].seq <= pending_[i - 1].seq))
      throw Error::Internal("pending seqs are not increasing below next_seq");
  return true;
}

template <typename Entry>
void NumberedLedger<Entry>::save_locked() {
  unsaved_ = true;  // until the write succeeds
  json j = {{"next_seq", next_seq_}, {"pending", encode(pending_)}};
  files::write_atomic(file_, j.dump() + "\n", 0600);
  unsaved_ = false;
}

template <typename Entry>
std::vector<Entry> NumberedLedger<Entry>::number(std::vector<Entry> fresh, size_t max, int64_t& lost) {
  std::lock_guard lock(mutex_);
  if (!fresh.empty()) {
    unsaved_ = true;
    for (auto& entry : fresh) {
      entry.seq = next_seq_++;
      pending_.push_back(std::move(entry));
    }
    if (pending_.size() > max_pending_) {
      auto excess = static_cast<std::ptrdiff_t>(pending_.size() - max_pending_);
      int64_t events = 0;
      for (auto it = pending_.begin(); it != pending_.begin() + excess; ++it) events += it->count;
      pending_.erase(pending_.begin(), pending_.begin() + excess);
      lost += events;
      spdlog::warn("dropped the {} oldest unacknowledged {} entries ({} counted): the management plane has not "
                   "acknowledged them",
                   excess, what_, events);
    }
  }
  if (unsaved_) save_locked();
  size_t n = std::min(max, pending_.size());
  return {pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n)};
}

template <typename Entry>
void NumberedLedger<Entry>::acknowledge(int64_t acked_seq) {
  std::lock_guard lock(mutex_);
  auto keep = std::find_if(pending_.begin(), pending_.end(), [&](const auto& e) { return e.seq > acked_seq; });
  if (keep == pending_.begin()) return;
  pending_.erase(pending_.begin(), keep);
  save_locked();
}

template <typename Entry>
size_t NumberedLedger<Entry>::pending_count() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

template <typename Entry>
int64_t NumberedLedger<Entry>::next_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_;
}

template class NumberedLedger<model::GatewayDenial>;
template class NumberedLedger<model::KubeRequest>;

}  // namespace byoc::agent
