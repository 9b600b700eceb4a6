#include "server/idempotency.h"

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/error.h"

namespace byoc::server {
namespace {

// Secrets are shown once: the stored copy of an answer never holds them.
void redact(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if (key == "password" || key == "token") value = "<redacted: shown once>";
      else redact(value);
    }
  } else if (j.is_array()) {
    for (auto& v : j) redact(v);
  }
}

}  // namespace

HttpResponse idempotent(store::Transaction& tx, const Principal& who, const HttpRequest& request, int64_t now,
                        const std::function<HttpResponse()>& mutate, bool* replayed) {
  *replayed = false;
  std::string key = request.header("idempotency-key");
  if (key.empty()) return mutate();
  if (key.size() > 255) throw Error::Invalid("invalid_idempotency_key", "at most 255 characters", "Idempotency-Key");
  std::string fingerprint = request.method + " " + request.path + " " + crypto::sha256_hex(request.body);
  if (auto seen = tx.idempotent_responses().find(who.token_id, key)) {
    if (seen->fingerprint != fingerprint)
      throw Error::Invalid("idempotency_key_reused", "this Idempotency-Key was used for a different request",
                           "Idempotency-Key");
    *replayed = true;
    HttpResponse r;
    r.status = seen->status;
    r.body = seen->body;
    r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
  }
  HttpResponse r = mutate();
  nlohmann::json stored = nlohmann::json::parse(r.body, nullptr, false);
  redact(stored);
  tx.idempotent_responses().put({who.token_id, key, fingerprint, r.status, stored.dump(), now});
  return r;
}

}  // namespace byoc::server
