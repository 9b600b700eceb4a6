#include "access/audit_log.h"

#include "access/audit_verify.h"
#include "base/crypto.h"
#include "base/error.h"

namespace byoc::access {
namespace {

constexpr int64_t kReadChunk = 4096;

void check_range(int64_t value, int64_t low, int64_t high, const char* field) {
  if (value < low || value > high)
    throw Error::BadRequest("out_of_range",
                         std::string(field) + " must be between " + std::to_string(low) + " and " + std::to_string(high),
                         field);
}

}  // namespace

AuditLogs::AuditLogs(const std::string& private_key_pem, size_t cached_leaves)
    : signer_(note::make_signer("byoc-audit", crypto::ed25519_seed(private_key_pem))),
      verifier_(note::verifier_of(signer_)),
      cached_limit_(cached_leaves) {}

AuditLogName AuditLogs::environment_log(const std::string& environment_id) const {
  return {"audit/environment/" + environment_id, environment_log_origin(verifier_, environment_id)};
}

AuditLogName AuditLogs::plane_log() const { return {"audit/plane", plane_log_origin(verifier_)}; }

int64_t AuditLogs::append(store::Transaction& tx, const AuditLogName& log, const std::string& entry) const {
  return tx.logs().append(log.key, entry);
}

int64_t AuditLogs::size(store::Transaction& tx, const AuditLogName& log) const { return tx.logs().size(log.key); }

std::vector<std::string> AuditLogs::entries(store::Transaction& tx, const AuditLogName& log, int64_t start,
                                            int64_t limit) const {
  return tx.logs().read(log.key, start, limit);
}

std::vector<merkle::Hash> AuditLogs::leaves(store::Transaction& tx, const AuditLogName& log, int64_t size) {
  std::vector<merkle::Hash> known;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(log.key); it != cache_.end()) {
      recency_.splice(recency_.begin(), recency_, it->second.position);
      const auto& cached = it->second.leaves;
      known.assign(cached.begin(), cached.begin() + std::min<int64_t>(size, static_cast<int64_t>(cached.size())));
    }
  }
  while (static_cast<int64_t>(known.size()) < size) {
    int64_t start = static_cast<int64_t>(known.size());
    auto chunk = tx.logs().read(log.key, start, std::min(kReadChunk, size - start));
    if (chunk.empty()) throw Error::Internal("audit log " + log.key + " has fewer entries than its size");
    for (const auto& entry : chunk) known.push_back(merkle::leaf_hash(entry));
  }
  std::lock_guard lock(mutex_);
  auto it = cache_.find(log.key);
  size_t had = it == cache_.end() ? 0 : it->second.leaves.size();
  if (known.size() > had && known.size() <= cached_limit_) {
    if (it == cache_.end()) {
      recency_.push_front(log.key);
      it = cache_.emplace(log.key, Cached{{}, recency_.begin()}).first;
    }
    cached_total_ += known.size() - had;
    it->second.leaves = known;
    // Forget the least recently used logs until within the limit (never the one just read).
    while (cached_total_ > cached_limit_ && recency_.back() != log.key) {
      auto victim = cache_.find(recency_.back());
      cached_total_ -= victim->second.leaves.size();
      cache_.erase(victim);
      recency_.pop_back();
    }
  }
  return known;
}

std::string AuditLogs::checkpoint(store::Transaction& tx, const AuditLogName& log) {
  int64_t n = size(tx, log);
  Checkpoint c{log.origin, static_cast<uint64_t>(n), merkle::root(leaves(tx, log, n))};
  return sign_checkpoint(c, signer_);
}

std::vector<merkle::Hash> AuditLogs::inclusion_proof(store::Transaction& tx, const AuditLogName& log,
                                                     int64_t index, int64_t size) {
  int64_t n = this->size(tx, log);
  check_range(size, 1, n, "size");
  check_range(index, 0, size - 1, "index");
  return merkle::inclusion_proof(leaves(tx, log, size), static_cast<uint64_t>(index), static_cast<uint64_t>(size));
}

std::vector<merkle::Hash> AuditLogs::consistency_proof(store::Transaction& tx, const AuditLogName& log,
                                                       int64_t first, int64_t second) {
  int64_t n = size(tx, log);
  check_range(second, 1, n, "second");
  check_range(first, 1, second, "first");
  return merkle::consistency_proof(leaves(tx, log, second), static_cast<uint64_t>(first),
                                   static_cast<uint64_t>(second));
}

}  // namespace byoc::access
