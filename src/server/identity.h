// The server's TLS identity and bootstrap credentials, all under its data dir:
//   ca.pem / ca.key (0600)                 CA of the serving certificate — the
//                                            one the CLI pins and join tokens hash
//   server.pem / server.key (0600)          serving certificate (or --tls-cert/--tls-key)
//   agent-ca.pem / agent-ca.key (0600)      signs agents' client certificates
//   admin.token (0600)                      the first admin token, written once
//   session-ticket.key (0600)               TLS session ticket key (server_main.cc),
//                                            kept across restarts, renewed daily
#pragma once

#include <filesystem>
#include <string>

#include "base/clock.h"
#include "base/crypto.h"
#include "store/store.h"

namespace byoc::server {

struct ServerIdentity {
  std::string ca_pem;
  std::string ca_sha256_hex;
  std::string serving_chain_pem;
  std::string serving_key_pem;
  crypto::KeyedCertificate agent_ca;
};

// Loads what exists and creates what is missing. With a user-supplied
// certificate, the last certificate of its chain is the CA that is pinned.
ServerIdentity load_or_create_identity(const std::filesystem::path& data_dir,
                                       const std::filesystem::path& tls_cert,
                                       const std::filesystem::path& tls_key, const Clock& clock);

// Makes sure an admin token exists: writes DIR/admin.token on first start and
// registers it (hashed) in the store; re-registers a token file whose record
// is missing (a crash between the two steps).
void ensure_admin_token(const std::filesystem::path& data_dir, store::Store& store, const Clock& clock);

}  // namespace byoc::server
