#include "server/dispatcher.h"

#include <chrono>
#include <cstdio>

#include "base/crypto.h"

namespace byoc::server {
namespace {

int64_t unix_millis(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.system_time().time_since_epoch()).count();
}

// Counts and logs the answer when it is sent, from whichever thread sends it.
class TracedResponder final : public Responder {
 public:
  TracedResponder(std::shared_ptr<Responder> inner, const HttpRequest& request, Metrics& metrics,
                  const Clock& clock, AccessLog* access_log)
      : inner_(std::move(inner)), trace_(request.trace), metrics_(metrics), clock_(clock),
        access_log_(access_log), method_(request.method), source_(request.remote_address),
        agent_(request.peer ? request.peer->common_name : "") {}

  void send(HttpResponse response) override {
    if (sent_.exchange(true)) return;
    double seconds = std::chrono::duration<double>(clock_.monotonic_time() - start_).count();
    std::string pattern = route.empty() ? "unmatched" : route;
    metrics_.observe_request(method_, pattern, response.status, seconds);
    if (access_log_)
      access_log_->write({unix_millis(clock_), trace_->request_id, source_, method_, pattern, response.status, seconds,
                          trace_->token_id, agent_});
    response.headers.emplace_back("X-Request-Id", trace_->request_id);
    inner_->send(std::move(response));
  }

  std::string route;  // set by the dispatcher before the handler runs

 private:
  std::shared_ptr<Responder> inner_;
  std::shared_ptr<RequestTrace> trace_;
  Metrics& metrics_;
  const Clock& clock_;
  AccessLog* access_log_;
  std::string method_;
  std::string source_;
  std::string agent_;
  MonotonicTime start_ = clock_.monotonic_time();
  std::atomic<bool> sent_{false};
};

}  // namespace

Dispatcher::Dispatcher(const Router& router, Metrics& metrics, const Clock& clock, AccessLog* access_log)
    : router_(router), metrics_(metrics), clock_(clock), access_log_(access_log),
      id_prefix_(crypto::hex(crypto::random_bytes(4))) {}

std::string Dispatcher::next_request_id() {
  char counter[24];
  std::snprintf(counter, sizeof counter, "%010llx", static_cast<unsigned long long>(next_id_++));
  return id_prefix_ + counter;
}

void Dispatcher::dispatch(HttpRequest& request, std::shared_ptr<Responder> responder) {
  request.trace = std::make_shared<RequestTrace>();
  request.trace->request_id = next_request_id();
  auto traced = std::make_shared<TracedResponder>(std::move(responder), request, metrics_, clock_, access_log_);
  try {
    const Handler& handler = router_.match(request);
    traced->route = request.route;
    handler(request, traced);
  } catch (const std::exception& e) {
    traced->send(error_response(e, &request));
  } catch (...) {
    traced->send(internal_error_response(&request, "a non-standard exception"));
  }
}

void Dispatcher::rejected(const std::string& source, int status) {
  metrics_.observe_request("other", "unmatched", status, 0);
  if (access_log_) access_log_->write({unix_millis(clock_), next_request_id(), source, "", "malformed", status, 0, "", ""});
}

}  // namespace byoc::server
