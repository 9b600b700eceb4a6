// Verifying an audit log from the outside: what `byoc audit verify` does and
// what the agent will do with the checkpoints it keeps. Pure functions: the
// caller fetches entries, checkpoints and proofs however it likes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/checkpoint.h"
#include "access/merkle.h"
#include "access/signed_note.h"

namespace byoc::access {

// The origin lines of a plane's audit logs' checkpoints:
// "byoc.audit/<16 hex digits of SHA-256 of the key>/environments/<id>" and
// ".../plane", so the logs of two planes (or of two environments) never pass
// for each other, and a verifier derives the origin it expects from the key
// it pinned.
std::string environment_log_origin(const note::Verifier& key, const std::string& environment_id);
std::string plane_log_origin(const note::Verifier& key);

// Checks that `entries` (the exact bytes of every entry, in order) are the
// whole log the signed checkpoint commits to: the note verifies with `key`,
// names `origin`, counts exactly these entries, and its root is theirs.
// Returns the checkpoint; throws byoc::Error (kInvalid) with code
// "malformed_note" / "invalid_signature" / "unverified_note" /
// "malformed_checkpoint" / "wrong_origin", "size_mismatch" or "root_mismatch".
Checkpoint verify_log(const std::vector<std::string>& entries, std::string_view checkpoint_note,
                      const note::Verifier& key, std::string_view origin);

// Checks that `earlier` (a checkpoint kept from before) is a prefix of
// `later` given the consistency proof between them. Throws kInvalid:
// "wrong_origin" (another log), "rolled_back" (the log is shorter than it
// was), "forked" (same size, another root; or the proof fails).
void verify_extends(const Checkpoint& earlier, const Checkpoint& later, const std::vector<merkle::Hash>& proof);

// Like verify_extends, against the entries themselves: the root of their
// first earlier.size leaves must be earlier's root.
void verify_prefix(const Checkpoint& earlier, const std::vector<std::string>& entries);

}  // namespace byoc::access
