// RFC 6962 / RFC 9162 Merkle trees over SHA-256: the hashes of an append-only
// log, its inclusion and consistency proofs, and their verification. Pure
// functions of their inputs; a hash is 32 raw bytes in a std::string.
//
// Proofs are made from the full list of leaf hashes (the log's entries are
// read anyway to serve them); verification needs only the proof, so a
// customer can check what the plane claims with nothing but these functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::access::merkle {

using Hash = std::string;

Hash leaf_hash(std::string_view entry);                   // SHA-256(0x00 ‖ entry)
Hash node_hash(std::string_view left, std::string_view right);  // SHA-256(0x01 ‖ left ‖ right)
Hash empty_root();                                        // SHA-256("")

// The root of the tree whose leaves have these hashes (MTH of RFC 6962 §2.1).
Hash root(const std::vector<Hash>& leaves);
// The root of the tree of the first `size` leaves (size <= leaves.size()).
Hash root(const std::vector<Hash>& leaves, uint64_t size);

// The audit path of leaf `index` in the tree of the first `size` leaves
// (RFC 6962 §2.1.1). Requires index < size <= leaves.size().
std::vector<Hash> inclusion_proof(const std::vector<Hash>& leaves, uint64_t index, uint64_t size);
// The proof that the tree of the first `first` leaves is a prefix of the
// tree of the first `second` (RFC 6962 §2.1.2). Requires
// 0 < first <= second <= leaves.size().
std::vector<Hash> consistency_proof(const std::vector<Hash>& leaves, uint64_t first, uint64_t second);

// RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` of a tree of `size`
// leaves whose root is `root`?
bool verify_inclusion(uint64_t index, uint64_t size, std::string_view leaf, const std::vector<Hash>& proof,
                      std::string_view root);
// RFC 9162 §2.1.4.2: is the tree (`first`, `first_root`) a prefix of the tree
// (`second`, `second_root`)? Equal sizes need an empty proof and equal roots.
// A tree of size 0 proves nothing and is refused: callers holding an empty
// checkpoint have nothing to compare.
bool verify_consistency(uint64_t first, uint64_t second, std::string_view first_root, std::string_view second_root,
                        const std::vector<Hash>& proof);

}  // namespace byoc::access::merkle
