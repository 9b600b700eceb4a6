// Cryptographic primitives over OpenSSL 3: randomness, hashing, constant-time
// comparison, and the small PKI byoc needs (a CA per trust domain, serving
// certificates, CSR-based client certificates). Everything is PEM in memory;
// callers decide where (and with which mode) to store it. All functions are
// thread-safe and throw byoc::Error on failure (kInvalid for bad input such as a
// malformed CSR or PEM, kInternal for OpenSSL failures).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"

namespace byoc::crypto {

// n bytes from the OpenSSL CSPRNG.
std::string random_bytes(size_t n);
std::string hex(std::string_view bytes);             // lowercase
std::string base64url(std::string_view bytes);       // RFC 4648 §5, no padding
std::string base64(std::string_view bytes);          // RFC 4648 §4, padded
// Standard padded base64, decoded only when `text` is exactly what base64()
// makes of the result (no whitespace, no stray bits): else nullopt.
std::optional<std::string> base64_decode(std::string_view text);
std::string sha256(std::string_view data);           // 32 raw bytes
std::string sha256_hex(std::string_view data);
// HKDF-SHA256 (RFC 5869): `length` bytes derived from `key` for `info`.
std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, size_t length);
// Equal length and content, in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// A fresh ECDSA P-256 private key, PKCS#8 PEM.
std::string generate_key_pem();
// A fresh Ed25519 private key, PKCS#8 PEM (signed notes: the audit log's checkpoints).
std::string generate_ed25519_key_pem();
// Ed25519 (RFC 8032) on raw keys, for signed notes: a 32-byte seed (the
// private key), a 32-byte public key, 64-byte signatures. Bad lengths throw
// kInvalid; ed25519_verify answers false for any malformed input.
std::string ed25519_public_key(std::string_view seed);
std::string ed25519_sign(std::string_view seed, std::string_view message);
bool ed25519_verify(std::string_view public_key, std::string_view message, std::string_view signature);
// The seed of an Ed25519 PKCS#8 PEM private key (kInvalid for another kind).
std::string ed25519_seed(std::string_view private_key_pem);

// The SubjectPublicKeyInfo PEM of a private key.
std::string public_key_pem(std::string_view private_key_pem);
// True when the certificate is for the public half of `private_key_pem`.
// Throws byoc::Error (kInvalid) if either doesn't parse.
bool certificate_matches_key(std::string_view cert_pem, std::string_view private_key_pem);

struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries (v4 or v6)
  bool is_ca = false;                     // basicConstraints CA:TRUE, keyCertSign|cRLSign
  bool server_auth = false;               // extendedKeyUsage serverAuth
  bool client_auth = false;               // extendedKeyUsage clientAuth
  TimePoint not_before;
  TimePoint not_after;
  std::string organization;         // O=, when set
  std::string organizational_unit;  // OU=, when set
};

// A certificate with its private key (the key is empty when we only hold the
// public part, e.g. a CA received from elsewhere).
struct KeyedCertificate {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA (spec.is_ca is forced on). Random 128-bit serial.
KeyedCertificate make_ca(const CertificateSpec& spec);
// A new key and a certificate for it signed by `issuer` (which must hold its key).
KeyedCertificate issue(const KeyedCertificate& issuer, const CertificateSpec& spec);

// A PKCS#10 request for `key_pem` with subject CN=common_name.
std::string make_csr(std::string_view key_pem, std::string_view common_name);
// Checks the CSR's self-signature (throws kInvalid if bad) and signs its public
// key into a certificate whose subject and extensions come from `spec` (never
// from the CSR: the requester chooses nothing but its key).
std::string sign_csr(const KeyedCertificate& issuer, std::string_view csr_pem,
                     const CertificateSpec& spec);

// The SHA-256 (hex) of a CSR's public key (its DER SubjectPublicKeyInfo),
// once its self-signature verifies: what an access approval names, so it
// lets in exactly that key. Throws kInvalid as sign_csr() does.
std::string csr_public_key_sha256_hex(std::string_view csr_pem);
// The CSR re-encoded from what was parsed (one "CERTIFICATE REQUEST" PEM
// block, nothing before or after it), once its self-signature verifies.
std::string normalized_csr_pem(std::string_view csr_pem);

struct CertificateInfo {
  std::string common_name;
  std::string organization;
  std::string organizational_unit;
  std::string issuer_common_name;
  std::string serial_hex;  // lowercase, no leading zeros stripped beyond OpenSSL's BN form
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
  bool is_ca = false;
};
CertificateInfo inspect(std::string_view cert_pem);

// SHA-256 (hex) of a certificate's public key (DER SubjectPublicKeyInfo):
// equal to csr_public_key_sha256_hex() of the CSR it was issued for.
std::string certificate_public_key_sha256_hex(std::string_view cert_pem);

// A CRL (PEM) signed by `issuer` listing `revoked_serials_hex` (lowercase
// hex, as inspect() gives them), valid from `this_update` to `next_update`.
std::string make_crl(const KeyedCertificate& issuer, const std::vector<std::string>& revoked_serials_hex,
                     TimePoint this_update, TimePoint next_update);

// SHA-256 (hex) of the certificate's DER encoding — the "CA hash" a join token
// carries, like kubeadm's discovery-token-ca-cert-hash.
std::string certificate_sha256_hex(std::string_view cert_pem);

// True when `cert_pem` is signed by `ca_pem` and valid at `at` (OpenSSL's
// rule: not_before <= at < not_after, for the certificate and the CA).
bool verify_issued_by(std::string_view cert_pem, std::string_view ca_pem, TimePoint at);
// Whether `ca_pem` signed `cert_pem` (issuer name and signature), whatever
// the time or any CRL says: who made a certificate that failed verification
// for another reason. False for anything unparsable.
bool signed_by(std::string_view cert_pem, std::string_view ca_pem);

// Splits a PEM bundle into its certificates, in file order.
std::vector<std::string> split_pem_certificates(std::string_view bundle);

}  // namespace byoc::crypto
