#include "access/merkle.h"

#include <bit>
#include <stdexcept>

#include "base/crypto.h"

namespace byoc::access::merkle {
namespace {

// The largest power of two smaller than n (n >= 2): where RFC 6962 splits a tree.
uint64_t split_point(uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[begin:end)).
Hash subtree_root(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  uint64_t n = end - begin;
  if (n == 0) return empty_root();
  if (n == 1) return leaves[begin];
  uint64_t k = split_point(n);
  return node_hash(subtree_root(leaves, begin, begin + k), subtree_root(leaves, begin + k, end));
}

// PATH(m, D[begin:end)), m relative to begin.
void path(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin, uint64_t end, std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (n <= 1) return;
  uint64_t k = split_point(n);
  if (m < k) {
    path(leaves, m, begin, begin + k, out);
    out.push_back(subtree_root(leaves, begin + k, end));
  } else {
    path(leaves, m - k, begin + k, end, out);
    out.push_back(subtree_root(leaves, begin, begin + k));
  }
}

// SUBPROOF(m, D[begin:end), b).
void subproof(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin, uint64_t end, bool whole,
              std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(subtree_root(leaves, begin, end));
    return;
  }
  uint64_t k = split_point(n);
  if (m <= k) {
    subproof(leaves, m, begin, begin + k, whole, out);
    out.push_back(subtree_root(leaves, begin + k, end));
  } else {
    subproof(leaves, m - k, begin + k, end, false, out);
    out.push_back(subtree_root(leaves, begin, begin + k));
  }
}

bool is_hash(std::string_view h) { return h.size() == 32; }

}  // namespace

Hash leaf_hash(std::string_view entry) {
  std::string data(1, '\x00');
  data.append(entry);
  return crypto::sha256(data);
}

Hash node_hash(std::string_view left, std::string_view right) {
  std::string data(1, '\x01');
  data.append(left);
  data.append(right);
  return crypto::sha256(data);
}

Hash empty_root() { return crypto::sha256(""); }

Hash root(const std::vector<Hash>& leaves) { return subtree_root(leaves, 0, leaves.size()); }

Hash root(const std::vector<Hash>& leaves, uint64_t size) {
  if (size > leaves.size()) throw std::invalid_argument("merkle::root: size beyond the leaves");
  return subtree_root(leaves, 0, size);
}

std::vector<Hash> inclusion_proof(const std::vector<Hash>& leaves, uint64_t index, uint64_t size) {
  if (index >= size || size > leaves.size()) throw std::invalid_argument("merkle::inclusion_proof: out of range");
  std::vector<Hash> out;
  path(leaves, index, 0, size, out);
  return out;
}

std::vector<Hash> consistency_proof(const std::vector<Hash>& leaves, uint64_t first, uint64_t second) {
  if (first == 0 || first > second || second > leaves.size())
    throw std::invalid_argument("merkle::consistency_proof: out of range");
  std::vector<Hash> out;
  subproof(leaves, first, 0, second, true, out);
  return out;
}

bool verify_inclusion(uint64_t index, uint64_t size, std::string_view leaf, const std::vector<Hash>& proof,
                      std::string_view root) {
  if (index >= size || !is_hash(leaf) || !is_hash(root)) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r(leaf);
  for (const Hash& p : proof) {
    if (!is_hash(p) || sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verify_consistency(uint64_t first, uint64_t second, std::string_view first_root, std::string_view second_root,
                        const std::vector<Hash>& proof) {
  if (first == 0 || first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (proof.empty() || !is_hash(first_root) || !is_hash(second_root)) return false;
  for (const Hash& p : proof)
    if (!is_hash(p)) return false;
  std::vector<Hash> path = proof;
  // When `first` is a power of two its tree is a whole subtree: the proof
  // leaves out its root, which the verifier knows.
  if (std::has_single_bit(first)) path.insert(path.begin(), Hash(first_root));
  uint64_t fn = first - 1;
  uint64_t sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == first_root && sr == second_root;
}

}  // namespace byoc::access::merkle
