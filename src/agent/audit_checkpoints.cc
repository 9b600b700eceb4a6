#include "agent/audit_checkpoints.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "access/audit_verify.h"
#include "agent/state_layout.h"
#include "base/error.h"
#include "base/files.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

AuditCheckpoints::AuditCheckpoints(fs::path state_dir, std::string environment_id)
    : state_dir_(std::move(state_dir)), environment_id_(std::move(environment_id)) {
  key_ = files::read_if_exists(state_dir_ / layout::kAuditKey).value_or("");
  auto saved = files::read_if_exists(state_dir_ / layout::kAuditCheckpoints);
  if (!saved) return;
  json j = json::parse(*saved, nullptr, false);
  if (!j.is_object() || !j.contains("checkpoints") || !j["checkpoints"].is_array()) {
    fail("unreadable", "the kept checkpoints are unreadable");
    return;
  }
  problem_ = j.value("problem", "");
  for (const auto& note : j["checkpoints"]) {
    try {
      std::string text = note.get<std::string>();
      kept_.push_back(access::open_checkpoint(text, access::note::parse_verifier(key_),
                                              access::environment_log_origin(access::note::parse_verifier(key_),
                                                                             environment_id_)));
      notes_.push_back(text);
    } catch (const std::exception& e) {
      fail("unreadable", std::string("a kept checkpoint does not verify: ") + e.what());
      return;
    }
  }
}

void AuditCheckpoints::offer_key(const std::string& verifier_key) {
  if (verifier_key.empty() || verifier_key == key_) return;
  if (!key_.empty()) return fail("key_changed", "the plane names another audit log key than the one pinned");
  try {
    access::note::parse_verifier(verifier_key);
  } catch (const std::exception& e) {
    return fail("invalid_key", e.what());
  }
  key_ = verifier_key;
  files::write_atomic(state_dir_ / layout::kAuditKey, key_, 0644);
  spdlog::info("pinned the audit log key {}", key_);
}

bool AuditCheckpoints::accept(const std::string& note, const std::vector<access::merkle::Hash>& consistency) {
  if (!problem_.empty()) return false;
  if (key_.empty()) {
    fail("no_key", "no audit log key is pinned");
    return false;
  }
  access::Checkpoint next;
  try {
    auto key = access::note::parse_verifier(key_);
    next = access::open_checkpoint(note, key, access::environment_log_origin(key, environment_id_));
    if (!kept_.empty()) {
      if (next == kept_.back()) return true;  // nothing new
      access::verify_extends(kept_.back(), next, consistency);
    }
  } catch (const Error& e) {
    fail(e.code(), e.what());
    return false;
  }
  kept_.push_back(next);
  notes_.push_back(note);
  if (kept_.size() > kMaxKept) {
    kept_.erase(kept_.begin());
    notes_.erase(notes_.begin());
  }
  save();
  return true;
}

void AuditCheckpoints::fail(const std::string& problem, const std::string& detail) {
  spdlog::error("the audit log of this environment does not verify ({}): {}; refusing new support grants",
                problem, detail);
  problem_ = problem.empty() ? "inconsistent" : problem;
  save();
}

void AuditCheckpoints::save() const {
  json j = {{"problem", problem_}, {"checkpoints", notes_}};
  files::write_atomic(state_dir_ / layout::kAuditCheckpoints, j.dump(), 0600);
}

}  // namespace byoc::agent
