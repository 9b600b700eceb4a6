#include "server/tls_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

#include "base/error.h"
#include "server/session_tickets.h"

namespace byoc::server {

const char* const kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

namespace {

constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:prime256v1:secp384r1";

[[noreturn]] void fail(const std::string& what) {
  unsigned long code = ERR_get_error();
  char reason[256] = {0};
  if (code) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  throw Error::Invalid("invalid_tls", what + (code ? std::string(": ") + reason : ""));
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio memory_bio(const std::string& pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

void use_chain(SSL_CTX* ctx, const std::string& pem) {
  Bio bio = memory_bio(pem);
  X509* leaf = PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr);
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
    X509_free(leaf);
    fail("cannot load the serving certificate");
  }
  X509_free(leaf);
  SSL_CTX_clear_chain_certs(ctx);
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      fail("cannot load the serving chain");
    }
  }
  ERR_clear_error();  // the loop ends on "no start line"
}

void use_key(SSL_CTX* ctx, const std::string& pem) {
  Bio bio = memory_bio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  bool ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  if (!ok) fail("cannot load the serving key");
}

void trust_client_ca(SSL_CTX* ctx, const std::string& pem) {
  Bio bio = memory_bio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    int ok = X509_STORE_add_cert(store, ca);
    X509_free(ca);
    if (ok != 1) fail("cannot load the client CA");
    ++added;
  }
  ERR_clear_error();
  if (added == 0) fail("no certificate in the client CA");
  // Ask for a client certificate but don't demand one: only agent routes
  // need it. One that fails verification fails the handshake.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("byoc"), 4);
}

// ALPN: http/1.1 or nothing. A client that offers protocols but not
// http/1.1 (h2 only) gets no_application_protocol rather than a guess.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void*) {
  static const unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  for (unsigned i = 0; i < inlen;) {
    unsigned len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// Where each context keeps its SessionTicketKeys.
int ticket_keys_slot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

bool use_hmac_key(EVP_MAC_CTX* hmac, const SessionTicketKeys::Key& key) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key.hmac.data()),
                                        key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(hmac, params) == 1;
}

// OpenSSL's ticket callback: seal with today's key; open with today's (1)
// or yesterday's (2: issue a new ticket); anything else (0) is a full handshake.
int ticket_key_callback(SSL* ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH], EVP_CIPHER_CTX* cipher,
                        EVP_MAC_CTX* hmac, int encrypt) {
  auto* keys = static_cast<SessionTicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticket_keys_slot()));
  if (!keys) return -1;
  try {
    if (encrypt) {
      SessionTicketKeys::Key key = keys->current();
      std::memcpy(name, key.name.data(), key.name.size());
      if (RAND_bytes(iv, 16) != 1) return -1;
      if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
      return use_hmac_key(hmac, key) ? 1 : -1;
    }
    bool renew = false;
    auto key = keys->find(name, &renew);
    if (!key) return 0;
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv) != 1) return -1;
    if (!use_hmac_key(hmac, *key)) return -1;
    return renew ? 2 : 1;
  } catch (const std::exception&) {
    return -1;  // never through OpenSSL's frames
  }
}

}  // namespace

std::shared_ptr<ssl_ctx_st> make_server_tls_context(const TlsContextOptions& options) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) fail("SSL_CTX_new failed");
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) fail("cannot set the TLS versions");
  SSL_CTX_set_options(c, SSL_OP_ALL | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) fail("cannot set the TLS 1.2 suites");
  if (SSL_CTX_set_ciphersuites(c, kTls13Suites) != 1) fail("cannot set the TLS 1.3 suites");
  if (SSL_CTX_set1_groups_list(c, kGroups) != 1) fail("cannot set the key exchange groups");
  SSL_CTX_set_alpn_select_cb(c, select_alpn, nullptr);
  // Idle keep-alive connections (thousands of agents between syncs) don't
  // keep their TLS read/write buffers.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (options.ticket_keys) {
    if (SSL_CTX_set_ex_data(c, ticket_keys_slot(), options.ticket_keys) != 1 ||
        SSL_CTX_set_tlsext_ticket_key_evp_cb(c, ticket_key_callback) != 1)
      fail("cannot install the session ticket keys");
  }
  use_chain(c, options.cert_chain_pem);
  use_key(c, options.key_pem);
  if (!options.client_ca_pem.empty()) trust_client_ca(c, options.client_ca_pem);
  return ctx;
}

}  // namespace byoc::server
