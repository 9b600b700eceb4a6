#include "agent/join.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "agent/renewal.h"
#include "agent/state_layout.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "model/protocol.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string read_token(const fs::path& token_file) {
  if (!token_file.empty()) {
    if (auto text = files::read_if_exists(token_file)) return trim(*text);
  }
  if (const char* env = std::getenv("BYOC_JOIN_TOKEN"); env && *env) return trim(env);
  throw Error::Invalid(
      "join_token_missing",
      "this agent has not joined yet: give a join token with --join-token-file or BYOC_JOIN_TOKEN",
      "join-token-file");
}

// The CA hash is the token's last dot-separated part.
std::string token_ca_hash(const std::string& token) {
  auto dot = token.rfind('.');
  std::string hash = dot == std::string::npos ? "" : token.substr(dot + 1);
  if (token.rfind("byocjoin_", 0) != 0 || hash.size() != 64)
    throw Error::Invalid("invalid_join_token", "the join token is malformed", "join-token");
  return hash;
}

}  // namespace

namespace {

// Joins through one server; records the plane's servers it lists.
AgentIdentity join_through(const fs::path& state_dir, const std::string& server_url, ServerList& servers,
                           const std::string& token) {
  AgentIdentity id;
  std::string expected = token_ca_hash(token);
  // Read the chain with verification off, but send nothing secret on it.
  http::Client probe;
  std::string server_ca;
  for (const auto& pem : probe.peer_certificates(server_url + "/healthz"))
    if (crypto::certificate_sha256_hex(pem) == expected) server_ca = pem;
  if (server_ca.empty())
    throw Error::Unauthenticated("the server at " + server_url +
                                 " does not present the CA named by the join token; refusing to join");

  std::string key_pem = crypto::generate_key_pem();
  files::write_atomic(state_dir / layout::kKey, key_pem, 0600);
  http::Client client({server_ca, "", "", false});
  http::Request req;
  req.method = "POST";
  req.url = server_url + "/v1/agent/join";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = json{{"token", token}, {"csr", crypto::make_csr(key_pem, "byoc agent")}}.dump();
  http::Response res = client.send(req);
  if (res.status != 200) {
    json err = json::parse(res.body, nullptr, false);
    std::string message =
        err.is_object() && err.contains("error") ? err["error"].value("message", "") : res.body;
    throw Error::Unauthenticated("join refused (HTTP " + std::to_string(res.status) + "): " + message);
  }
  json body = json::parse(res.body);
  id = {body.at("environment_id"), body.at("environment_name"), server_ca, key_pem, body.at("certificate")};
  std::vector<std::string> plane;
  if (body.contains("servers") && body["servers"].is_array())
    for (const auto& url : body["servers"])
      if (url.is_string() && model::is_https_endpoint(url.get<std::string>())) plane.push_back(url);
  servers.update(plane);
  // The plane's audit log key, pinned like the server CA (audit_checkpoints.h).
  if (body.contains("audit_key") && body["audit_key"].is_string())
    files::write_atomic(state_dir / layout::kAuditKey, body["audit_key"].get<std::string>(), 0644);
  // The identity file last: its presence means the join completed.
  files::write_atomic(state_dir / layout::kServerCa, server_ca, 0644);
  files::write_atomic(state_dir / layout::kCertificate, id.certificate_pem, 0644);
  files::write_atomic(
      state_dir / layout::kIdentity,
      json{{"environment_id", id.environment_id}, {"environment_name", id.environment_name}}.dump(), 0644);
  spdlog::info("joined environment {} ({}) through {}", id.environment_name, id.environment_id, server_url);
  return id;
}

}  // namespace

AgentIdentity load_or_join(const fs::path& state_dir, ServerList& servers, const fs::path& token_file) {
  finish_interrupted_renewal(state_dir);
  auto cert = files::read_if_exists(state_dir / layout::kCertificate);
  auto key = files::read_if_exists(state_dir / layout::kKey);
  auto ca = files::read_if_exists(state_dir / layout::kServerCa);
  auto identity = files::read_if_exists(state_dir / layout::kIdentity);
  if (cert && key && ca && identity) {
    json j = json::parse(*identity);
    return {j.at("environment_id"), j.at("environment_name"), *ca, *key, *cert};
  }
  std::string token = read_token(token_file);
  // Each server once, from the current one: one that can't be reached is
  // no reason not to join through another.
  for (size_t tried = 1;; ++tried) {
    try {
      AgentIdentity id = join_through(state_dir, servers.current(), servers, token);
      if (!token_file.empty()) {
        std::error_code ec;
        fs::remove(token_file, ec);  // single use anyway; don't leave it lying around
      }
      return id;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUnavailable || tried >= servers.all().size()) throw;
      spdlog::warn("cannot join through {} ({}); trying the next server", servers.current(), e.what());
      servers.failed();
    }
  }
}

AgentIdentity load_or_join(const fs::path& state_dir, const std::string& server_url, const fs::path& token_file) {
  ServerList servers({server_url}, state_dir / layout::kServers, 0);
  return load_or_join(state_dir, servers, token_file);
}

}  // namespace byoc::agent
