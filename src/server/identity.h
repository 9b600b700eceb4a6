// The server's TLS identity and bootstrap credentials, all under its data dir:
//   ca.pem / ca.key (0600)                 CA of the serving certificate — the
//                                            one the CLI pins and join tokens hash
//   server.pem / server.key (0600)          serving certificate (or --tls-cert/--tls-key)
//   agent-ca.pem / agent-ca.key (0600)      signs agents' client certificates
//   admin.token (0600)                      the first admin token, written once
//   session-ticket.key (0600)               the day's secret TLS session ticket
//                                            keys come from (session_tickets.h)
//   audit-log.key (0600)                    Ed25519: signs the audit logs' checkpoints
//
// The servers of one plane (one store) share the CA, the agent CA, the
// session-ticket secret and the audit log key, so an agent or CLI that
// pinned the CA, a TLS session, and a log's checkpoints are good with (and
// made alike by) every server: a second server takes them from the
// first's data dir once (`byoc server --keys-from DIR`). None of them is ever
// in the store. Each server has its own serving certificate, issued by the
// shared CA.
#pragma once

#include <filesystem>
#include <string>

#include "base/clock.h"
#include "base/crypto.h"
#include "store/store.h"

namespace byoc::server {

struct ServerIdentity {
  std::string audit_log_key_pem;  // Ed25519, PKCS#8
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

// The files take_plane_keys() copies; ca.key may be missing when the plane's
// servers run with --tls-cert.
inline constexpr const char* kPlaneKeyFiles[] = {"ca.pem",          "ca.key",        "agent-ca.pem",
                                                 "agent-ca.key",    "session-ticket.key", "audit-log.key",
                                                 "admin.token"};

// Copies the plane's keys (kPlaneKeyFiles) from another server's data dir
// `from` into `data_dir` (0600 each). A file already there must be the same
// (a data dir belongs to one plane). Throws byoc::Error (kInvalid, field
// keys-from) if `from` lacks one, kConflict if `data_dir` has a different one.
void take_plane_keys(const std::filesystem::path& from, const std::filesystem::path& data_dir);

// Makes sure an admin token exists: writes DIR/admin.token on first start and
// registers it (hashed) in the store; re-registers a token file whose record
// is missing (a crash between the two steps). A store that has tokens
// already (another server of the plane made them) gets no new one, and no
// token file is written: the plane's admin token comes with --keys-from.
void ensure_admin_token(const std::filesystem::path& data_dir, store::Store& store, const Clock& clock);

}  // namespace byoc::server
