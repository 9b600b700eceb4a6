// AuditCheckpoints: the customer's side of the audit log. With each desired
// state the management plane sends the latest signed checkpoint of this
// environment's audit log and a consistency proof from the last checkpoint
// the agent kept. The agent checks the signature with the key it pinned when
// it joined (the first key it saw, for agents that joined before keys were
// sent), the origin (this environment's log), and that the new tree extends
// the kept one (RFC 6962). It keeps every checkpoint it accepted (the last
// kMaxKept), so the customer holds evidence of what the plane committed to.
//
// On a fork or a rollback (or a bad signature) it becomes inconsistent: it
// says so in its status, refuses new support grants, and keeps serving. It
// stays inconsistent — across restarts — until the customer looks into it
// and removes the file (docs/access.md).
//
// Threading: one caller at a time (the sync loop).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "access/checkpoint.h"
#include "access/merkle.h"

namespace byoc::agent {

class AuditCheckpoints {
 public:
  static constexpr size_t kMaxKept = 1000;

  AuditCheckpoints(std::filesystem::path state_dir, std::string environment_id);

  // Pins `verifier_key` unless one is pinned already (then a different one
  // makes the log inconsistent). Empty: nothing offered.
  void offer_key(const std::string& verifier_key);

  // Checks and keeps `note` given the proof from the last kept checkpoint.
  // Returns false (and turns inconsistent) when it does not verify.
  bool accept(const std::string& note, const std::vector<access::merkle::Hash>& consistency);

  // The size of the last kept checkpoint (0: none), for the next request.
  uint64_t kept_size() const { return kept_.empty() ? 0 : kept_.back().size; }
  bool consistent() const { return problem_.empty(); }
  // Why not ("" while consistent): rolled_back, forked, invalid_signature, …
  const std::string& problem() const { return problem_; }

 private:
  void fail(const std::string& problem, const std::string& detail);
  void save() const;

  std::filesystem::path state_dir_;
  std::string environment_id_;
  std::string key_;  // pinned verifier key ("" until known)
  std::vector<access::Checkpoint> kept_;
  std::vector<std::string> notes_;  // the signed notes of kept_, as received
  std::string problem_;
};

}  // namespace byoc::agent
