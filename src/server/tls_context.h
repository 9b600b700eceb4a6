// The server's TLS context: Mozilla's "intermediate" profile (TLS 1.3, and
// TLS 1.2 with AEAD ECDHE suites only, the server's order, no renegotiation,
// no compression), ALPN http/1.1 only (a client offering only other
// protocols is refused), session tickets under the plane's daily keys
// (session_tickets.h),
// and optional client certificates verified against a CA (agents).
// OpenSSL types stay behind this header.
#pragma once

#include <memory>
#include <string>

struct ssl_ctx_st;

namespace byoc::server {

class SessionTicketKeys;

struct TlsContextOptions {
  std::string cert_chain_pem;      // serving certificate, then its chain
  std::string key_pem;
  std::string client_ca_pem;       // empty: no client certificates asked for
  // Seals and opens session tickets; null: OpenSSL's own random key. Must
  // outlive the context.
  SessionTicketKeys* ticket_keys = nullptr;
};

// The TLS 1.2 suites offered, in the server's order (OpenSSL names).
extern const char* const kTls12Ciphers;

// Throws byoc::Error (invalid_tls) when the certificate, key or CA is unusable.
std::shared_ptr<ssl_ctx_st> make_server_tls_context(const TlsContextOptions& options);

}  // namespace byoc::server
