// Proves access/merkle.h is RFC 6962 / RFC 9162: it agrees with the official
// transparency-dev vectors (vectors/merkle: every inclusion and consistency
// case, valid or not), with known answers, and, on generated trees of 1..70
// leaves, every proof it makes verifies while any tampering with a proof, an
// index or a size is refused.
#include "access/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "testing/testing.h"

namespace byoc::access::merkle {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Copied into the repository (vectors/SOURCES.md), so a clean clone runs them.
fs::path merkle_vectors() { return byoc::testing::source_dir() / "tests" / "access" / "vectors" / "merkle"; }

// Base64 as the vectors write it (an empty string is zero bytes).
std::string b64(const json& value) {
  auto decoded = crypto::base64_decode(value.get<std::string>());
  if (!decoded) throw std::runtime_error("not canonical base64: " + value.get<std::string>());
  return *decoded;
}

// "proof": null means no proof hashes.
std::vector<Hash> proof_of(const json& vector) {
  std::vector<Hash> out;
  if (vector.at("proof").is_null()) return out;
  for (const auto& h : vector.at("proof")) out.push_back(b64(h));
  return out;
}

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

// Every .json file under `dir`, sorted so the output is stable.
std::vector<fs::path> json_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

struct Tally {
  int passed = 0;
  int failed = 0;
};

// Runs `check` (true = our answer matches wantErr) on every vector under
// `kind`, prints the counts per directory and returns the total.
template <typename Check>
Tally run_vectors(const std::string& kind, Check check) {
  fs::path base = merkle_vectors() / kind;
  std::map<std::string, Tally> per_dir;
  Tally total;
  for (const fs::path& file : json_files(base)) {
    std::string dir = fs::relative(file.parent_path(), merkle_vectors()).generic_string();
    json v = read_json(file);
    bool matches = check(v);
    Tally& t = per_dir[dir];
    (matches ? t.passed : t.failed)++;
    (matches ? total.passed : total.failed)++;
    EXPECT_TRUE(matches) << file << ": " << v.value("desc", "") << " (wantErr " << v.at("wantErr") << ")";
  }
  for (const auto& [dir, t] : per_dir)
    std::cout << "  " << dir << ": passed " << t.passed << ", failed " << t.failed << "\n";
  std::cout << "  " << kind << " total: passed " << total.passed << ", failed " << total.failed << std::endl;
  return total;
}

std::vector<Hash> leaves_of(uint64_t n) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < n; ++i) leaves.push_back(leaf_hash("entry-" + std::to_string(i)));
  return leaves;
}

Hash flip_bit(Hash h, size_t bit) {
  h[bit / 8 % h.size()] = static_cast<char>(h[bit / 8 % h.size()] ^ (1 << (bit % 8)));
  return h;
}

constexpr uint64_t kMaxGenerated = 70;

// ---- known answers ----

TEST(Merkle, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(crypto::base64(empty_root()), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(root({}), empty_root());
}

TEST(Merkle, LeafHashOfEmptyEntry) {
  EXPECT_EQ(crypto::base64(leaf_hash("")), "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=");
}

TEST(Merkle, SmallTreesFollowRfc6962Shape) {
  auto l = leaves_of(5);
  EXPECT_EQ(root(l, 1), l[0]);
  EXPECT_EQ(root(l, 2), node_hash(l[0], l[1]));
  EXPECT_EQ(root(l, 3), node_hash(node_hash(l[0], l[1]), l[2]));
  EXPECT_EQ(root(l, 5), node_hash(node_hash(node_hash(l[0], l[1]), node_hash(l[2], l[3])), l[4]));
  EXPECT_EQ(root(l), root(l, 5));
  EXPECT_THROW(root(l, 6), std::invalid_argument);
}

// ---- official vectors ----

TEST(Merkle, InclusionVectors) {
  Tally t = run_vectors("inclusion", [](const json& v) {
    bool ok = verify_inclusion(v.at("leafIdx").get<uint64_t>(), v.at("treeSize").get<uint64_t>(), b64(v.at("leafHash")),
                               proof_of(v), b64(v.at("root")));
    return ok == !v.at("wantErr").get<bool>();
  });
  EXPECT_GT(t.passed, 0);
  EXPECT_EQ(t.failed, 0);
}

TEST(Merkle, ConsistencyVectors) {
  Tally t = run_vectors("consistency", [](const json& v) {
    bool ok = verify_consistency(v.at("size1").get<uint64_t>(), v.at("size2").get<uint64_t>(), b64(v.at("root1")),
                                 b64(v.at("root2")), proof_of(v));
    return ok == !v.at("wantErr").get<bool>();
  });
  EXPECT_GT(t.passed, 0);
  EXPECT_EQ(t.failed, 0);
}

// ---- generated trees ----

TEST(Merkle, EveryInclusionProofOfGeneratedTreesVerifies) {
  auto leaves = leaves_of(kMaxGenerated);
  for (uint64_t n = 1; n <= kMaxGenerated; ++n) {
    Hash r = root(leaves, n);
    for (uint64_t i = 0; i < n; ++i)
      ASSERT_TRUE(verify_inclusion(i, n, leaves[i], inclusion_proof(leaves, i, n), r)) << "leaf " << i << " of " << n;
  }
}

TEST(Merkle, TamperedInclusionProofsFail) {
  auto leaves = leaves_of(kMaxGenerated);
  for (uint64_t n = 1; n <= kMaxGenerated; ++n) {
    Hash r = root(leaves, n);
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = inclusion_proof(leaves, i, n);
      SCOPED_TRACE("leaf " + std::to_string(i) + " of " + std::to_string(n));
      // One bit flipped in one proof hash (each hash in turn).
      for (size_t k = 0; k < proof.size(); ++k) {
        auto bad = proof;
        bad[k] = flip_bit(bad[k], 8 * k + i);
        EXPECT_FALSE(verify_inclusion(i, n, leaves[i], bad, r)) << "hash " << k;
      }
      // The wrong leaf, a hash dropped or added.
      EXPECT_FALSE(verify_inclusion(i, n, flip_bit(leaves[i], i), proof, r));
      if (!proof.empty()) {
        EXPECT_FALSE(verify_inclusion(i, n, leaves[i], {proof.begin(), proof.end() - 1}, r));
      }
      auto longer = proof;
      longer.push_back(leaves[0]);
      EXPECT_FALSE(verify_inclusion(i, n, leaves[i], longer, r));
      // Any other index, and the index just past the end.
      for (uint64_t j = 0; j <= n; ++j) {
        if (j != i) {
          EXPECT_FALSE(verify_inclusion(j, n, leaves[i], proof, r)) << "index " << j;
        }
      }
      // Another size: against that tree's root (it holds other leaves), and,
      // like the vectors' treeSize-mul-@2, double the size against this root.
      if (n + 1 <= kMaxGenerated) {
        EXPECT_FALSE(verify_inclusion(i, n + 1, leaves[i], proof, root(leaves, n + 1))) << "size + 1";
      }
      if (n - 1 > i) {
        EXPECT_FALSE(verify_inclusion(i, n - 1, leaves[i], proof, root(leaves, n - 1))) << "size - 1";
      }
      EXPECT_FALSE(verify_inclusion(i, 2 * n, leaves[i], proof, r));
    }
  }
}

TEST(Merkle, EveryConsistencyProofOfGeneratedTreesVerifies) {
  auto leaves = leaves_of(kMaxGenerated);
  for (uint64_t n = 1; n <= kMaxGenerated; ++n)
    for (uint64_t m = 1; m <= n; ++m)
      ASSERT_TRUE(verify_consistency(m, n, root(leaves, m), root(leaves, n), consistency_proof(leaves, m, n)))
          << m << " -> " << n;
}

TEST(Merkle, TamperedConsistencyProofsFail) {
  auto leaves = leaves_of(kMaxGenerated);
  for (uint64_t n = 1; n <= kMaxGenerated; ++n) {
    Hash rn = root(leaves, n);
    for (uint64_t m = 1; m <= n; ++m) {
      Hash rm = root(leaves, m);
      auto proof = consistency_proof(leaves, m, n);
      SCOPED_TRACE(std::to_string(m) + " -> " + std::to_string(n));
      for (size_t k = 0; k < proof.size(); ++k) {
        auto bad = proof;
        bad[k] = flip_bit(bad[k], 8 * k + m);
        EXPECT_FALSE(verify_consistency(m, n, rm, rn, bad)) << "hash " << k;
      }
      // Either root changed, a hash dropped or added.
      EXPECT_FALSE(verify_consistency(m, n, flip_bit(rm, n), rn, proof));
      EXPECT_FALSE(verify_consistency(m, n, rm, flip_bit(rn, m), proof));
      if (!proof.empty()) {
        EXPECT_FALSE(verify_consistency(m, n, rm, rn, {proof.begin(), proof.end() - 1}));
      }
      auto longer = proof;
      longer.push_back(leaves[0]);
      EXPECT_FALSE(verify_consistency(m, n, rm, rn, longer));
      // Other sizes, with the roots of those trees.
      if (m + 1 <= n) {
        EXPECT_FALSE(verify_consistency(m + 1, n, root(leaves, m + 1), rn, proof)) << "first + 1";
      }
      if (m > 1) {
        EXPECT_FALSE(verify_consistency(m - 1, n, root(leaves, m - 1), rn, proof)) << "first - 1";
      }
      if (n + 1 <= kMaxGenerated) {
        EXPECT_FALSE(verify_consistency(m, n + 1, rm, root(leaves, n + 1), proof)) << "second + 1";
      }
      if (n - 1 >= m && n > 1) {
        EXPECT_FALSE(verify_consistency(m, n - 1, rm, root(leaves, n - 1), proof)) << "second - 1";
      }
      // A tree of size 0 proves nothing.
      EXPECT_FALSE(verify_consistency(0, n, empty_root(), rn, proof));
    }
  }
}

TEST(Merkle, ProofMakersRefuseOutOfRangeArguments) {
  auto leaves = leaves_of(4);
  EXPECT_THROW(inclusion_proof(leaves, 4, 4), std::invalid_argument);
  EXPECT_THROW(inclusion_proof(leaves, 0, 5), std::invalid_argument);
  EXPECT_THROW(consistency_proof(leaves, 0, 4), std::invalid_argument);
  EXPECT_THROW(consistency_proof(leaves, 3, 2), std::invalid_argument);
  EXPECT_THROW(consistency_proof(leaves, 1, 5), std::invalid_argument);
}

}  // namespace
}  // namespace byoc::access::merkle
