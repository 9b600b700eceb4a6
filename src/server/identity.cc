#include "server/identity.h"

#include <unistd.h>

#include "base/error.h"
#include "base/files.h"
#include "server/tokens.h"

namespace byoc::server {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The first admin token's holder: whoever can read the data dir.
constexpr const char* kBootstrapSubject = "bootstrap admin (DIR/admin.token)";

crypto::KeyedCertificate load_or_make_ca(const fs::path& dir, const std::string& name, const std::string& cn,
                                         const Clock& clock) {
  auto cert = files::read_if_exists(dir / (name + ".pem"));
  auto key = files::read_if_exists(dir / (name + ".key"));
  if (cert && key) return {*cert, *key};
  crypto::CertificateSpec spec;
  spec.common_name = cn;
  spec.is_ca = true;
  spec.not_before = clock.system_time() - 1h;
  spec.not_after = clock.system_time() + 24h * 3650;
  auto ca = crypto::make_ca(spec);
  // Key first: a certificate without its key would be unusable after a crash.
  files::write_atomic(dir / (name + ".key"), ca.key_pem, 0600);
  files::write_atomic(dir / (name + ".pem"), ca.cert_pem, 0600);
  return ca;
}

std::string hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

void take_plane_keys(const fs::path& from, const fs::path& data_dir) {
  if (!fs::is_directory(from))
    throw Error::Invalid("invalid_keys_from", from.string() + " is not a directory", "keys-from");
  for (const char* name : kPlaneKeyFiles) {
    auto theirs = files::read_if_exists(from / name);
    bool optional = std::string(name) == "ca.key" || std::string(name) == "admin.token";
    if (!theirs) {
      if (optional) continue;
      throw Error::Invalid("invalid_keys_from",
                           (from / name).string() + " is missing (start the first server once before copying its keys)",
                           "keys-from");
    }
    auto ours = files::read_if_exists(data_dir / name);
    if (ours && *ours != *theirs)
      throw Error::Conflict("other_plane", (data_dir / name).string() + " differs from " + (from / name).string() +
                                               ": this data dir belongs to another plane",
                            "keys-from");
    if (!ours) files::write_atomic(data_dir / name, *theirs, 0600);
  }
}

ServerIdentity load_or_create_identity(const fs::path& data_dir, const fs::path& tls_cert, const fs::path& tls_key,
                                       const Clock& clock) {
  ServerIdentity id;
  if (!tls_cert.empty() || !tls_key.empty()) {
    if (tls_cert.empty() || tls_key.empty())
      throw Error::Invalid("invalid_tls", "--tls-cert and --tls-key go together", "tls-cert");
    id.serving_chain_pem = files::read(tls_cert);
    id.serving_key_pem = files::read(tls_key);
    auto chain = crypto::split_pem_certificates(id.serving_chain_pem);
    if (chain.empty()) throw Error::Invalid("invalid_tls", "no certificate in " + tls_cert.string(), "tls-cert");
    id.ca_pem = chain.back();
    files::write_atomic(data_dir / "ca.pem", id.ca_pem, 0600);
  } else {
    if (fs::exists(data_dir / "ca.pem") && !fs::exists(data_dir / "ca.key"))
      throw Error::Invalid("invalid_tls",
                           "the data dir has the CA's certificate but not its key: serve with --tls-cert/--tls-key",
                           "tls-cert");
    auto ca = load_or_make_ca(data_dir, "ca", "byoc server CA", clock);
    id.ca_pem = ca.cert_pem;
    auto cert = files::read_if_exists(data_dir / "server.pem");
    auto key = files::read_if_exists(data_dir / "server.key");
    bool fresh = cert && key && crypto::verify_issued_by(*cert, ca.cert_pem, clock.system_time() + 24h * 30);
    if (!fresh) {
      crypto::CertificateSpec spec;
      spec.common_name = "byoc server";
      spec.dns_names = {"localhost", hostname()};
      spec.ip_addresses = {"127.0.0.1", "::1"};
      spec.server_auth = true;
      spec.not_before = clock.system_time() - 1h;
      spec.not_after = clock.system_time() + 24h * 365;
      auto issued = crypto::issue(ca, spec);
      files::write_atomic(data_dir / "server.key", issued.key_pem, 0600);
      files::write_atomic(data_dir / "server.pem", issued.cert_pem, 0600);
      cert = issued.cert_pem;
      key = issued.key_pem;
    }
    id.serving_chain_pem = *cert + ca.cert_pem;
    id.serving_key_pem = *key;
  }
  id.ca_sha256_hex = crypto::certificate_sha256_hex(id.ca_pem);
  id.agent_ca = load_or_make_ca(data_dir, "agent-ca", "byoc agent CA", clock);
  auto log_key = files::read_if_exists(data_dir / "audit-log.key");
  if (!log_key) {
    log_key = crypto::generate_ed25519_key_pem();
    files::write_atomic(data_dir / "audit-log.key", *log_key, 0600);
  }
  id.audit_log_key_pem = *log_key;
  return id;
}

void ensure_admin_token(const fs::path& data_dir, store::Store& store, const Clock& clock) {
  fs::path path = data_dir / "admin.token";
  auto existing = files::read_if_exists(path);
  if (!existing) {
    bool plane_has_tokens = false;
    store.read([&](store::Transaction& tx) { plane_has_tokens = !tx.api_tokens().list().empty(); });
    if (plane_has_tokens) return;
  }
  std::string text;
  store::ApiToken record;
  if (existing) {
    text = *existing;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    auto parts = parse_api_token(text);
    if (!parts) throw Error::Internal(path.string() + " does not hold a valid token");
    record = {parts->id, crypto::sha256_hex(parts->secret), "admin", "default", clock.unix_seconds(), kBootstrapSubject};
  } else {
    NewToken t = make_api_token();
    // The file first: if we crash before the store write, the next start
    // registers the token from the file.
    files::write_atomic(path, t.text + "\n", 0600);
    record = {t.id, t.secret_sha256_hex, "admin", "default", clock.unix_seconds(), kBootstrapSubject};
  }
  store.transact([&](store::Transaction& tx) {
    // Only a store with no token at all takes the file's: a token revoked
    // later must not come back from a stale file.
    if (tx.api_tokens().list().empty()) tx.api_tokens().put(record);
  });
}

}  // namespace byoc::server
