// OpenSSL plumbing shared by crypto.cc (bytes, hashes, keys, signatures) and
// pki.cc (certificates, requests, CRLs): owning pointers, the error queue
// turned into byoc::Error, memory BIOs and PEM loading. Internal to
// src/base: nothing outside includes it.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace byoc::crypto::detail {

// unique_ptr deleter calling an OpenSSL free function.
template <auto FreeFn>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Free<X509_REQ_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Free<GENERAL_NAME_free>>;
using OctetPtr = std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING_free>>;
using Ia5Ptr = std::unique_ptr<ASN1_IA5STRING, Free<ASN1_IA5STRING_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
inline void openssl_free(void* p) { OPENSSL_free(p); }
using OsslString = std::unique_ptr<char, Free<openssl_free>>;
using OsslBytes = std::unique_ptr<unsigned char, Free<openssl_free>>;

// Drains this thread's OpenSSL error queue into one readable string, so a
// failure never leaves stale errors behind for the next unrelated call.
inline std::string drain_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

[[noreturn]] inline void fail_internal(const std::string& what) {
  std::string detail = drain_errors();
  throw Error::Internal(what + (detail.empty() ? "" : ": " + detail));
}

[[noreturn]] inline void fail_invalid(const std::string& code, const std::string& what) {
  std::string detail = drain_errors();
  throw Error::Invalid(code, what + (detail.empty() ? "" : ": " + detail));
}

inline BioPtr read_bio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) throw Error::Invalid("too_large", "PEM input too large");
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) fail_internal("BIO_new_mem_buf");
  return bio;
}

inline std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0) fail_internal("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

inline BioPtr write_bio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) fail_internal("BIO_new");
  return bio;
}

// Never prompt on a terminal for a passphrase: byoc keys are unencrypted, and
// an encrypted one is simply a key we can't use.
inline int no_passphrase(char*, int, int, void*) { return -1; }

inline PkeyPtr load_private_key(std::string_view pem) {
  BioPtr bio = read_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) fail_invalid("bad_private_key", "cannot parse private key PEM");
  return key;
}

inline X509Ptr load_certificate(std::string_view pem) {
  BioPtr bio = read_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
  if (!cert) fail_invalid("bad_certificate", "cannot parse certificate PEM");
  return cert;
}

inline std::string private_key_pem(EVP_PKEY* key) {
  BioPtr bio = write_bio();
  // PEM_write_bio_PrivateKey emits PKCS#8 ("BEGIN PRIVATE KEY").
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail_internal("PEM_write_bio_PrivateKey");
  }
  return bio_contents(bio.get());
}

inline PkeyPtr new_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail_internal("EC P-256 key generation");
  return key;
}

// Keys we are willing to certify: a requester must not get a certificate for
// a key an attacker could break.
}  // namespace byoc::crypto::detail
