#include "server/dispatcher.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/crypto.h"

namespace byoc::server {
namespace {

std::string error_code_of(const HttpResponse& response) {
  if (response.status < 400) return "";
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "";
  auto code = body["error"].value("code", nlohmann::json());
  return code.is_string() ? code.get<std::string>() : "";
}

// Counts, logs and audits the answer when it is sent, from whichever thread
// sends it. An audited call's answer goes out once its record is kept.
class TracedResponder final : public Responder {
 public:
  TracedResponder(std::shared_ptr<Responder> inner, const HttpRequest& request, Metrics& metrics,
                  const Clock& clock, AccessLog* access_log, AuditSink* audit)
      : inner_(std::move(inner)), trace_(request.trace), metrics_(metrics), clock_(clock),
        access_log_(access_log), audit_(audit), method_(request.method), source_(request.remote_address),
        agent_(request.peer ? request.peer->common_name : "") {}

  // Called by the dispatcher once the route is known, before anything runs.
  void matched(const RouteSpec& spec, const HttpRequest& request) {
    spec_ = &spec;
    trace_->route = &spec;
    if (spec.effect == Effect::kChange) {
      trace_->object = request.params;
      trace_->agent = agent_;
    }
  }

  void send(HttpResponse response) override {
    if (sent_.exchange(true)) return;
    double seconds = std::chrono::duration<double>(clock_.monotonic_time() - start_).count();
    std::string pattern = spec_ ? spec_->pattern : "unmatched";
    metrics_.observe_request(method_, pattern, response.status, seconds);
    if (access_log_)
      access_log_->write({clock_.unix_millis(), trace_->request_id, source_, method_, pattern, response.status, seconds,
                          trace_->token_id, agent_});
    response.headers.emplace_back("X-Request-Id", trace_->request_id);
    if (!audit_ || !spec_ || spec_->effect != Effect::kChange) return inner_->send(std::move(response));
    AuditRecord record = audit_record(*trace_, clock_.unix_millis(), response.status, error_code_of(response));
    auto answer = std::make_shared<HttpResponse>(std::move(response));
    audit_->record(record, trace_->audited, [inner = inner_, answer] { inner->send(std::move(*answer)); });
  }

 private:
  std::shared_ptr<Responder> inner_;
  std::shared_ptr<RequestTrace> trace_;
  Metrics& metrics_;
  const Clock& clock_;
  AccessLog* access_log_;
  AuditSink* audit_;
  std::string method_;
  std::string source_;
  std::string agent_;
  const RouteSpec* spec_ = nullptr;  // the router's, which outlives every request
  MonotonicTime start_ = clock_.monotonic_time();
  std::atomic<bool> sent_{false};
};

// Runs a handler; whatever it throws is its answer.
void run(const Handler& handler, HttpRequest& request, const std::shared_ptr<Responder>& responder) {
  try {
    handler(request, responder);
  } catch (const std::exception& e) {
    responder->send(error_response(e, &request));
  } catch (...) {
    responder->send(internal_error_response(&request, "a non-standard exception"));
  }
}

}  // namespace

Dispatcher::Dispatcher(const Router& router, Metrics& metrics, const Clock& clock, AccessLog* access_log,
                       Admission* admission, AuditSink* audit)
    : router_(router), metrics_(metrics), clock_(clock), access_log_(access_log), admission_(admission),
      audit_(audit), id_prefix_(crypto::hex(crypto::random_bytes(4))) {}

std::string Dispatcher::next_request_id() {
  char counter[24];
  std::snprintf(counter, sizeof counter, "%010llx", static_cast<unsigned long long>(next_id_++));
  return id_prefix_ + counter;
}

void Dispatcher::dispatch(HttpRequest& request, std::shared_ptr<Responder> responder) {
  request.trace = std::make_shared<RequestTrace>();
  request.trace->request_id = next_request_id();
  auto traced =
      std::make_shared<TracedResponder>(std::move(responder), request, metrics_, clock_, access_log_, audit_);
  const Router::Route* route = nullptr;
  try {
    route = &router_.match(request);
  } catch (const std::exception& e) {
    return traced->send(error_response(e, &request));
  }
  traced->matched(route->spec, request);
  if (!needs_token(route->spec.access)) return run(route->handler, request, traced);
  if (!admission_) return traced->send(internal_error_response(&request, "no admission for an API-token route"));
  auto admitted = std::make_shared<HttpRequest>(std::move(request));
  admission_->admit(route->spec, admitted, [route, admitted, traced](std::exception_ptr refusal) {
    if (!refusal) return run(route->handler, *admitted, traced);
    try {
      std::rethrow_exception(refusal);
    } catch (const std::exception& e) {
      traced->send(error_response(e, admitted.get()));
    } catch (...) {
      traced->send(internal_error_response(admitted.get(), "a non-standard exception"));
    }
  });
}

void Dispatcher::rejected(const std::string& source, int status) {
  metrics_.observe_request("other", "unmatched", status, 0);
  if (access_log_) access_log_->write({clock_.unix_millis(), next_request_id(), source, "", "malformed", status, 0, "", ""});
}

}  // namespace byoc::server
