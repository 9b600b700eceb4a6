#include "agent/sync_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::agent {
using nlohmann::json;
using namespace std::chrono_literals;

SyncClient::SyncClient(std::string server_url, const AgentIdentity& identity, const std::atomic<bool>* cancel)
    : url_(std::move(server_url) + "/v1/agent/sync"),
      cancel_(cancel),
      client_({identity.server_ca_pem, identity.certificate_pem, identity.key_pem, false}) {}

model::SyncResponse SyncClient::sync(const model::SyncRequest& report) {
  http::Request req;
  req.method = "POST";
  req.url = url_;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = model::to_json(report).dump();
  req.timeout = 75s;  // the server holds a request up to ~30 s
  req.cancel = cancel_;
  http::Response res = client_.send(req);
  if (res.status != 200) {
    json body = json::parse(res.body, nullptr, false);
    std::string code = "unknown", field;
    if (body.is_object() && body.contains("error") && body["error"].is_object()) {
      code = body["error"].value("code", code);
      field = body["error"].value("field", "");
    }
    std::string what = "sync answered HTTP " + std::to_string(res.status) + " (" + code +
                       (field.empty() ? "" : " at " + field) + ")";
    if (res.status >= 500) throw Error::Unavailable(what);
    if (res.status == 401) throw Error::Unauthenticated(what);
    if (res.status == 422) throw Error::Invalid(code, what, field);
    throw Error::BadRequest(code, what, field);
  }
  json body = json::parse(res.body, nullptr, false);
  if (body.is_discarded()) throw Error::Unavailable("sync answer is not JSON");
  return model::parse_sync_response(body);
}

RetryBackoff::RetryBackoff(uint64_t seed, std::chrono::milliseconds base, std::chrono::milliseconds cap)
    : random_(seed), base_(base), cap_(cap) {}

std::chrono::milliseconds RetryBackoff::next_delay() {
  failures_ = std::min(failures_ + 1, 1000);
  // base·2^(failures-1), without overflow, capped.
  double step = static_cast<double>(base_.count());
  for (int i = 1; i < failures_ && step < static_cast<double>(cap_.count()); ++i) step *= 2;
  step = std::min(step, static_cast<double>(cap_.count()));
  double delay = std::uniform_real_distribution<double>(step / 4, step)(random_);
  return std::chrono::milliseconds(static_cast<int64_t>(delay));
}

}  // namespace byoc::agent
