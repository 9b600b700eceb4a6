// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the body of a
// signed note that commits a log to its size and root hash —
//   <origin>\n<decimal tree size>\n<base64 root hash>\n[extension lines]
// The origin names the log (one per environment, one for the plane), so a
// checkpoint of one log is never taken for another's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "access/signed_note.h"

namespace byoc::access {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root;  // 32 raw bytes
  bool operator==(const Checkpoint&) const = default;
};

std::string checkpoint_text(const Checkpoint& checkpoint);
// Parses a checkpoint's note text; throws byoc::Error (kInvalid,
// "malformed_checkpoint") when it is not one. Extension lines are allowed
// and ignored.
Checkpoint parse_checkpoint_text(std::string_view text);

// The signed note of a checkpoint.
std::string sign_checkpoint(const Checkpoint& checkpoint, const note::Signer& signer);
// Opens a signed checkpoint: the note must verify with `key` and its origin
// must be `origin` (throws kInvalid with the note's codes, or
// "malformed_checkpoint", or "wrong_origin").
Checkpoint open_checkpoint(std::string_view signed_note, const note::Verifier& key, std::string_view origin);

}  // namespace byoc::access
