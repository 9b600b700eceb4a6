#include "agent/renewal.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "agent/state_layout.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path next(const fs::path& state_dir, const char* name) { return state_dir / (std::string(name) + ".next"); }

void remove_quietly(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

// The server's error message, or the body when it isn't our error shape.
std::string refusal(const http::Response& res) {
  json err = json::parse(res.body, nullptr, false);
  if (err.is_object() && err.contains("error") && err["error"].is_object())
    return err["error"].value("message", res.body);
  return res.body;
}

// POST /v1/agent/renew with the current identity; the new certificate,
// checked to be for `key_pem` and the same environment.
std::string request_certificate(const std::string& server_url, const AgentIdentity& current,
                                const std::string& key_pem, const std::atomic<bool>* cancel) {
  http::Client client({current.server_ca_pem, current.certificate_pem, current.key_pem, false});
  http::Request req;
  req.method = "POST";
  req.url = server_url + "/v1/agent/renew";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = json{{"csr", crypto::make_csr(key_pem, "byoc agent")}}.dump();
  req.timeout = std::chrono::seconds(30);
  req.cancel = cancel;
  http::Response res = client.send(req);
  if (res.status >= 500) throw Error::Unavailable("renewal answered HTTP " + std::to_string(res.status));
  if (res.status != 200)
    throw Error::Unauthenticated("renewal refused (HTTP " + std::to_string(res.status) + "): " + refusal(res));
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("certificate") || !body["certificate"].is_string())
    throw Error::Unavailable("renewal answer has no certificate");
  std::string cert = body["certificate"].get<std::string>();
  if (!crypto::certificate_matches_key(cert, key_pem) ||
      crypto::inspect(cert).common_name != crypto::inspect(current.certificate_pem).common_name)
    throw Error::Unavailable("renewal answer is not a certificate for the new key and this environment");
  return cert;
}

}  // namespace

bool renewal_due(const std::string& certificate_pem, TimePoint now) {
  crypto::CertificateInfo info = crypto::inspect(certificate_pem);
  int64_t lifetime = info.not_after_unix - info.not_before_unix;
  int64_t left = info.not_after_unix - std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return left * 3 < lifetime;
}

AgentIdentity renew_certificate(const fs::path& state_dir, const std::string& server_url,
                                const AgentIdentity& current, const std::atomic<bool>* cancel) {
  const std::string key_pem = crypto::generate_key_pem();
  files::write_atomic(next(state_dir, layout::kKey), key_pem, 0600);
  std::string cert;
  try {
    cert = request_certificate(server_url, current, key_pem, cancel);
  } catch (...) {
    remove_quietly(next(state_dir, layout::kKey));  // no certificate will come for it
    throw;
  }
  files::write_atomic(next(state_dir, layout::kCertificate), cert, 0644);
  finish_interrupted_renewal(state_dir);
  AgentIdentity renewed = current;
  renewed.key_pem = key_pem;
  renewed.certificate_pem = cert;
  spdlog::info("client certificate renewed, valid until {}", crypto::inspect(cert).not_after_unix);
  return renewed;
}


void finish_interrupted_renewal(const fs::path& state_dir) {
  const fs::path key = state_dir / layout::kKey, cert = state_dir / layout::kCertificate;
  const fs::path next_key = next(state_dir, layout::kKey), next_cert = next(state_dir, layout::kCertificate);
  auto new_cert = files::read_if_exists(next_cert);
  if (!new_cert) {
    remove_quietly(next_key);  // no certificate came for it; the current pair stands
    return;
  }
  // The new key is in agent.key.next, or already in agent.key if the crash
  // came between the two renames.
  auto new_key = files::read_if_exists(next_key);
  bool key_moved = !new_key;
  if (key_moved) new_key = files::read_if_exists(key);
  bool usable = false;
  try {
    usable = new_key && crypto::certificate_matches_key(*new_cert, *new_key);
  } catch (const Error&) {
    usable = false;  // a torn file: treat as no certificate
  }
  if (!usable) {
    remove_quietly(next_cert);
    remove_quietly(next_key);
    return;
  }
  if (!key_moved) files::rename_durable(next_key, key);
  files::rename_durable(next_cert, cert);
}

}  // namespace byoc::agent
