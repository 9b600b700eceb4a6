#include "base/crypto.h"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <ctime>
#include <memory>

#include "base/error.h"
#include "base/openssl_util.h"

// Bytes, hashes, keys and signatures (certificates are pki.cc's).
namespace byoc::crypto {
using namespace detail;

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, 1 << 20));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1)
      fail_internal("RAND_bytes");
    done += static_cast<size_t>(chunk);
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::string base64url(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX / 4 * 3))
    throw Error::Invalid("too_large", "input too large");
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  if (len < 0) fail_internal("EVP_EncodeBlock");
  out.resize(static_cast<size_t>(len));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) fail_internal("EVP_Digest");
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, size_t length) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  std::string out(length, '\0');
  size_t out_length = length;
  auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), bytes(salt), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), bytes(key), static_cast<int>(key.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes(info), static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_length) != 1 ||
      out_length != length)
    fail_internal("HKDF");
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Lengths are not secret (a token's format fixes them); the content is.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string generate_ed25519_key_pem() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) fail_internal("Ed25519 key generation");
  return private_key_pem(key.get());
}

std::string public_key_pem(std::string_view private_key_pem_text) {
  PkeyPtr key = load_private_key(private_key_pem_text);
  BioPtr bio = write_bio();
  if (PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) fail_internal("PEM_write_bio_PUBKEY");
  return bio_contents(bio.get());
}

std::string base64(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX / 4 * 3)) throw Error::Invalid("too_large", "input too large");
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  if (len < 0) fail_internal("EVP_EncodeBlock");
  out.resize(static_cast<size_t>(len));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > static_cast<size_t>(INT_MAX)) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  ERR_clear_error();
  if (len < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(len) - padding);
  // Canonical form only: one text per byte string (EVP_DecodeBlock skips
  // surrounding whitespace and ignores stray low bits).
  if (base64(out) != text) return std::nullopt;
  return out;
}

namespace {

PkeyPtr ed25519_private(std::string_view seed) {
  if (seed.size() != 32) fail_invalid("bad_key", "an Ed25519 private key is 32 bytes");
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                           reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  if (!key) fail_internal("EVP_PKEY_new_raw_private_key");
  return key;
}

}  // namespace

std::string ed25519_public_key(std::string_view seed) {
  PkeyPtr key = ed25519_private(seed);
  std::string out(32, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 || len != 32)
    fail_internal("EVP_PKEY_get_raw_public_key");
  return out;
}

std::string ed25519_sign(std::string_view seed, std::string_view message) {
  PkeyPtr key = ed25519_private(seed);
  std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  size_t len = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != 64)
    fail_internal("Ed25519 signing");
  return signature;
}

bool ed25519_verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(public_key.data()), 32));
  std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  bool ok = key && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), 64,
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string ed25519_seed(std::string_view private_key_pem_text) {
  PkeyPtr key = load_private_key(private_key_pem_text);
  if (!EVP_PKEY_is_a(key.get(), "ED25519")) fail_invalid("bad_key", "not an Ed25519 private key");
  std::string out(32, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 || len != 32)
    fail_internal("EVP_PKEY_get_raw_private_key");
  return out;
}

}  // namespace byoc::crypto
