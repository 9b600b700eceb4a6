// The audit logs: one per environment and one for the plane itself, each an
// append-only RFC 6962 tree over the store's gapless per-key log (store.h:
// Logs). An entry is the exact bytes hashed (a leaf is SHA-256(0x00 ‖ entry));
// a checkpoint is a C2SP tlog-checkpoint signed with the plane's Ed25519
// audit log key (audit-log.key, shared by the plane's servers), so any
// server signs the same checkpoint for the same tree, and a customer or the
// environment's agent who kept one can ask any later one to prove it extends
// it.
//
// Threading: thread-safe. Entries are appended in the caller's transaction;
// reads run in the caller's transaction too, which should be a read (a
// snapshot): the leaf hashes of entries read are remembered (a bounded,
// least-recently-used cache), entries never change once committed.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "access/checkpoint.h"
#include "access/merkle.h"
#include "access/signed_note.h"
#include "store/store.h"

namespace byoc::access {

// Which log: its key in the store and the origin line of its checkpoints.
struct AuditLogName {
  std::string key;
  std::string origin;
};

class AuditLogs {
 public:
  // `private_key_pem`: the plane's Ed25519 audit log key (PKCS#8 PEM).
  // `cached_leaves`: how many leaf hashes to remember across all logs.
  explicit AuditLogs(const std::string& private_key_pem, size_t cached_leaves = size_t{1} << 20);

  // "byoc-audit" with the key's hash: the verifier key agents pin and
  // customers verify with (GET /v1/audit/key).
  const note::Verifier& verifier() const { return verifier_; }
  std::string verifier_key() const { return note::format_verifier(verifier_); }

  // Origins as audit_verify.h names them.
  AuditLogName environment_log(const std::string& environment_id) const;
  AuditLogName plane_log() const;

  // Appends `entry` (bytes as they will be hashed) and returns its index.
  int64_t append(store::Transaction& tx, const AuditLogName& log, const std::string& entry) const;

  int64_t size(store::Transaction& tx, const AuditLogName& log) const;
  std::vector<std::string> entries(store::Transaction& tx, const AuditLogName& log, int64_t start,
                                   int64_t limit) const;
  // The log's current checkpoint, signed.
  std::string checkpoint(store::Transaction& tx, const AuditLogName& log);
  // Proofs against the log's first `size` / `second` entries (each must be
  // at most the log's size: kInvalid otherwise, with the query field named).
  std::vector<merkle::Hash> inclusion_proof(store::Transaction& tx, const AuditLogName& log, int64_t index,
                                            int64_t size);
  std::vector<merkle::Hash> consistency_proof(store::Transaction& tx, const AuditLogName& log, int64_t first,
                                              int64_t second);

 private:
  // The leaf hashes of the log's first `size` entries (size <= the log's size).
  std::vector<merkle::Hash> leaves(store::Transaction& tx, const AuditLogName& log, int64_t size);

  note::Signer signer_;
  note::Verifier verifier_;
  size_t cached_limit_;
  std::mutex mutex_;
  std::list<std::string> recency_;  // keys, most recently used first
  struct Cached {
    std::vector<merkle::Hash> leaves;
    std::list<std::string>::iterator position;
  };
  std::map<std::string, Cached> cache_;
  size_t cached_total_ = 0;
};

}  // namespace byoc::access
