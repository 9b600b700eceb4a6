#include "api_harness.h"

#include <sstream>

#include "base/crypto.h"
#include "cloud/aws/aws_driver.h"


namespace byoc::server::test {
using namespace std::chrono_literals;

namespace {
class CapturingResponder final : public Responder {
 public:
  void send(HttpResponse response) override {
    if (!done_.exchange(true)) promise.set_value(std::move(response));
  }
  std::promise<HttpResponse> promise;

 private:
  std::atomic<bool> done_{false};
};
}  // namespace

ApiHarness::ApiHarness() : clock(1'800'000'000) {
  store = test_store_.open_retrying();
  pool_ = std::make_unique<WorkPool>(1);
  crypto::CertificateSpec spec;
  spec.common_name = "test CA";
  spec.not_before = clock.system_time() - 1h;
  spec.not_after = clock.system_time() + 24h;
  auto ca = crypto::make_ca(spec);
  identity_.ca_pem = ca.cert_pem;
  identity_.ca_sha256_hex = crypto::certificate_sha256_hex(ca.cert_pem);
  identity_.agent_ca = crypto::make_ca(spec);
  identity_.audit_log_key_pem = crypto::generate_ed25519_key_pem();
  aws::AwsDriverOptions aws;
  aws.env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_EC2_METADATA_DISABLED") return "true";
    if (name == "BYOC_AWS_MANAGEMENT_ACCOUNT") return "111122223333";
    return std::nullopt;
  };
  aws.clock = &clock;
  aws::read_driver_settings(aws.env, aws);
  aws_driver_ = std::make_unique<aws::AwsDriver>(std::move(aws));
  ctx_.reset(new ServerContext(*store, *pool_, clock, identity_,
                               {{"local", &driver_}, {"external", &driver_}, {"aws", aws_driver_.get()}}));
  audit_logs_ = std::make_unique<access::AuditLogs>(identity_.audit_log_key_pem);
  trail_ = std::make_unique<AuditTrail>(*store, *pool_, *audit_logs_);
  audit_.trail = trail_.get();
  ctx_->audit = &audit_;
  ctx_->audit_logs = audit_logs_.get();
  ctx_->enqueue = [this](const std::string& key) { enqueued.push_back(key); };
  subscribe_to_plane(*ctx_);
  add_api_routes(router_, *ctx_);
  add_agent_routes(router_, *ctx_);
  add_admin_routes(router_, *ctx_);
  add_profile_routes(router_, *ctx_);
  add_maintenance_routes(router_, *ctx_);
  add_upgrade_routes(router_, *ctx_);
  add_onboarding_routes(router_, *ctx_);
  add_cloud_routes(router_, *ctx_);
  add_usage_routes(router_, *ctx_);
  add_audit_routes(router_, *ctx_);
  add_access_routes(router_, *ctx_);
  admission_ = std::make_unique<StoreAdmission>(*store, *pool_, ctx_->tokens);
  dispatcher_ = std::make_unique<Dispatcher>(router_, ctx_->metrics, clock, nullptr, admission_.get(), &audit_);
  NewToken t = make_api_token();
  admin_token = t.text;
  store->transact([&](store::Transaction& tx) { tx.api_tokens().put({t.id, t.secret_sha256_hex, "admin", "default", 0}); });
}

ApiHarness::~ApiHarness() {
  pool_.reset();
  store.reset();  // before its database goes, and before the context its subscriber uses
}

HttpRequest ApiHarness::request(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& content_type, const std::string& token,
                                const std::string& idempotency_key) const {
  HttpRequest req;
  req.method = method;
  auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::stringstream query(target.substr(q + 1));
    for (std::string pair; std::getline(query, pair, '&');) {
      auto eq = pair.find('=');
      req.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    }
  }
  if (!content_type.empty()) req.headers["content-type"] = content_type;
  if (!token.empty()) req.headers["authorization"] = "Bearer " + (token == "<admin>" ? admin_token : token);
  if (!idempotency_key.empty()) req.headers["idempotency-key"] = idempotency_key;
  req.remote_address = "127.0.0.1";
  req.body = body;
  return req;
}

Answer ApiHarness::call(const std::string& method, const std::string& target, const std::string& body,
                        const std::string& content_type, const std::string& token,
                        const std::string& idempotency_key) {
  return send(request(method, target, body, content_type, token, idempotency_key));
}

std::future<Answer> ApiHarness::call_async(const std::string& method, const std::string& target,
                                           const std::string& body) {
  HttpRequest req = request(method, target, body, "application/json", "<admin>", "");
  auto responder = std::make_shared<CapturingResponder>();
  std::shared_future<HttpResponse> answer = responder->promise.get_future().share();
  dispatcher_->dispatch(req, responder);
  return std::async(std::launch::deferred, [answer] {
    HttpResponse res = answer.get();
    return Answer{res.status, nlohmann::json::parse(res.body, nullptr, false)};
  });
}

HttpResponse ApiHarness::exchange(HttpRequest req) {
  auto responder = std::make_shared<CapturingResponder>();
  auto future = responder->promise.get_future();
  dispatcher_->dispatch(req, responder);
  return future.get();
}

Answer ApiHarness::send(HttpRequest req) {
  HttpResponse res = exchange(std::move(req));
  return {res.status, nlohmann::json::parse(res.body, nullptr, false)};
}

std::string ApiHarness::call_text(const std::string& method, const std::string& target) {
  HttpResponse res = exchange(request(method, target, "", "", "<admin>", ""));
  return res.status == 200 ? res.body : "";
}

std::vector<AuditRecord> ApiHarness::audited() {
  std::lock_guard lock(audit_.mutex);
  return audit_.records;
}

size_t ApiHarness::rows() {
  size_t n = 0;
  store->transact([&](store::Transaction& tx) {
    auto envs = tx.environments().list("");
    n += envs.size();
    n += tx.services().list("").size();
    n += tx.operations().running("").size();
    for (const auto& e : envs) n += static_cast<size_t>(e.revision);
  });
  return n;
}

}  // namespace byoc::server::test
