#include "access/audit_verify.h"

#include "base/crypto.h"
#include "base/error.h"

namespace byoc::access {
namespace {

std::vector<merkle::Hash> leaf_hashes(const std::vector<std::string>& entries) {
  std::vector<merkle::Hash> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(merkle::leaf_hash(e));
  return out;
}

void check_same_log(const Checkpoint& earlier, const Checkpoint& later) {
  if (earlier.origin != later.origin)
    throw Error::Invalid("wrong_origin", "the checkpoints are of different logs ('" + earlier.origin + "', '" +
                                             later.origin + "')");
  if (earlier.size > later.size)
    throw Error::Invalid("rolled_back", "the log has " + std::to_string(later.size) + " entries, fewer than the " +
                                            std::to_string(earlier.size) + " of a checkpoint kept earlier");
}

[[noreturn]] void forked(const Checkpoint& earlier) {
  throw Error::Invalid("forked", "the log's first " + std::to_string(earlier.size) +
                                     " entries are not those of the checkpoint kept earlier");
}

std::string origin_prefix(const note::Verifier& key) {
  return "byoc.audit/" + crypto::hex(crypto::sha256(key.public_key)).substr(0, 16);
}

}  // namespace

std::string environment_log_origin(const note::Verifier& key, const std::string& environment_id) {
  return origin_prefix(key) + "/environments/" + environment_id;
}

std::string plane_log_origin(const note::Verifier& key) { return origin_prefix(key) + "/plane"; }

Checkpoint verify_log(const std::vector<std::string>& entries, std::string_view checkpoint_note,
                      const note::Verifier& key, std::string_view origin) {
  Checkpoint c = open_checkpoint(checkpoint_note, key, origin);
  if (c.size != entries.size())
    throw Error::Invalid("size_mismatch", "the checkpoint counts " + std::to_string(c.size) + " entries, the log has " +
                                              std::to_string(entries.size()));
  if (merkle::root(leaf_hashes(entries)) != c.root)
    throw Error::Invalid("root_mismatch", "the entries do not hash to the checkpoint's root");
  return c;
}

void verify_extends(const Checkpoint& earlier, const Checkpoint& later, const std::vector<merkle::Hash>& proof) {
  check_same_log(earlier, later);
  if (earlier.size == 0) return;  // an empty log is a prefix of every log
  if (!merkle::verify_consistency(earlier.size, later.size, earlier.root, later.root, proof)) forked(earlier);
}

void verify_prefix(const Checkpoint& earlier, const std::vector<std::string>& entries) {
  if (earlier.size > entries.size())
    throw Error::Invalid("rolled_back", "the log has " + std::to_string(entries.size()) + " entries, fewer than the " +
                                            std::to_string(earlier.size) + " of a checkpoint kept earlier");
  if (merkle::root(leaf_hashes(entries), earlier.size) != earlier.root) forked(earlier);
}

}  // namespace byoc::access
