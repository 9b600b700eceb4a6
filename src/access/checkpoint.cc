#include "access/checkpoint.h"

#include <charconv>

#include "base/crypto.h"
#include "base/error.h"

namespace byoc::access {
namespace {

[[noreturn]] void malformed(const std::string& why) {
  throw Error::Invalid("malformed_checkpoint", "malformed checkpoint: " + why);
}

std::string_view next_line(std::string_view& text) {
  size_t end = text.find('\n');
  if (end == std::string_view::npos) malformed("a line does not end in a newline");
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end + 1);
  return line;
}

}  // namespace

std::string checkpoint_text(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" + crypto::base64(c.root) + "\n";
}

Checkpoint parse_checkpoint_text(std::string_view text) {
  Checkpoint c;
  c.origin = std::string(next_line(text));
  if (c.origin.empty()) malformed("no origin");
  std::string_view size = next_line(text);
  // Decimal, no sign, no leading zero (one text per size).
  if (size.empty() || (size.size() > 1 && size[0] == '0')) malformed("the tree size is not a decimal number");
  auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), c.size);
  if (error != std::errc() || end != size.data() + size.size()) malformed("the tree size is not a decimal number");
  auto root = crypto::base64_decode(next_line(text));
  if (!root || root->size() != 32) malformed("the root hash is not 32 bytes of base64");
  c.root = *root;
  while (!text.empty())
    if (next_line(text).empty()) malformed("an empty extension line");
  return c;
}

std::string sign_checkpoint(const Checkpoint& checkpoint, const note::Signer& signer) {
  return note::sign(checkpoint_text(checkpoint), {signer});
}

Checkpoint open_checkpoint(std::string_view signed_note, const note::Verifier& key, std::string_view origin) {
  note::Opened opened = note::open(signed_note, {key});
  Checkpoint c = parse_checkpoint_text(opened.text);
  if (c.origin != origin)
    throw Error::Invalid("wrong_origin", "the checkpoint is of log '" + c.origin + "', not '" + std::string(origin) + "'");
  return c;
}

}  // namespace byoc::access
