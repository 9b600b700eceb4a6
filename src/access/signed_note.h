// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys: the
// format of the audit log's checkpoints and of customer approvals, so any
// existing note verifier (Go's golang.org/x/mod/sumdb/note, sigsum, …) reads
// ours and ours reads theirs.
//
// A note is UTF-8 text ending in a newline, a blank line, then one line per
// signature: "— <key name> <base64(4-byte key hash ‖ 64-byte signature)>".
// Keys are written "<name>+<hash>+<base64(0x01 ‖ 32-byte key)>" (verifier) and
// "PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ 32-byte seed)>" (signer), where
// hash = the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), in hex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::access::note {

struct Verifier {
  std::string name;
  uint32_t key_hash = 0;
  std::string public_key;  // 32 bytes
};

struct Signer {
  std::string name;
  uint32_t key_hash = 0;
  std::string seed;  // 32 bytes: the Ed25519 private key
};

// Names are non-empty UTF-8 with no whitespace and no '+'.
bool valid_key_name(std::string_view name);
uint32_t key_hash(std::string_view name, std::string_view public_key);

// Parse the text forms; throw byoc::Error (kInvalid, code "bad_key") with
// what is wrong.
Verifier parse_verifier(std::string_view text);
Signer parse_signer(std::string_view text);
std::string format_verifier(const Verifier& verifier);
std::string format_signer(const Signer& signer);

// A signer from an Ed25519 seed, and its verifier.
Signer make_signer(std::string_view name, std::string_view seed);
Verifier verifier_of(const Signer& signer);

// The note: `text` (which must end in a newline and be a valid note text)
// followed by the signature of each signer.
std::string sign(std::string_view text, const std::vector<Signer>& signers);

struct Opened {
  std::string text;                         // the signed text, with its final newline
  std::vector<std::string> verified_by;     // names of the known keys whose signatures verified
};

// Opens a note: its format must be right, every signature by a known key must
// verify, and at least one must. Throws byoc::Error (kInvalid) with code
// "malformed_note", "invalid_signature" or "unverified_note". Signatures by
// unknown keys are ignored, as the spec asks.
Opened open(std::string_view note, const std::vector<Verifier>& known);

}  // namespace byoc::access::note
