#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>

namespace byoc::server {

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
                                                          .Name("byoc_http_requests_total")
                                                          .Help("API requests by route, method and status")
                                                          .Register(registry);
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                           .Name("byoc_http_request_duration_seconds")
                                                           .Help("API request latency by route")
                                                           .Register(registry);
  prometheus::Family<prometheus::Counter>& reconciles = prometheus::BuildCounter()
                                                            .Name("byoc_reconciles_total")
                                                            .Help("Reconciles by resource kind and result")
                                                            .Register(registry);
  prometheus::Family<prometheus::Counter>& handshakes = prometheus::BuildCounter()
                                                            .Name("byoc_tls_handshakes_total")
                                                            .Help("Completed TLS handshakes, by session resumption")
                                                            .Register(registry);
  prometheus::Counter& resumed = handshakes.Add({{"resumed", "true"}});
  prometheus::Counter& full = handshakes.Add({{"resumed", "false"}});
  prometheus::Family<prometheus::Gauge>& agents = prometheus::BuildGauge()
                                                      .Name("byoc_connected_agents")
                                                      .Help("Agents with a sync open or recently answered")
                                                      .Register(registry);
  prometheus::Family<prometheus::Gauge>& waiting = prometheus::BuildGauge()
                                                       .Name("byoc_agent_syncs_waiting")
                                                       .Help("Agent syncs held open until their environment changes")
                                                       .Register(registry);
  prometheus::Family<prometheus::Histogram>& sync = prometheus::BuildHistogram()
                                                        .Name("byoc_agent_sync_duration_seconds")
                                                        .Help("Agent sync calls from request to answer, by outcome")
                                                        .Register(registry);
  prometheus::Family<prometheus::Counter>& closed = prometheus::BuildCounter()
                                                        .Name("byoc_http_connections_closed_total")
                                                        .Help("Connections the server closed early, by reason")
                                                        .Register(registry);
  std::mutex mutex;
  std::function<double()> agents_source;
  std::function<double()> waiting_source;
};

namespace {
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,   0.25,   0.5,   1,    2.5,   5};
  return b;
}
const prometheus::Histogram::BucketBoundaries& sync_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 45};
  return b;
}

// Label values come from closed sets, whatever a client sends: a method
// outside RFC 9110's is "other", a status outside 100-599 "other".
const std::string& method_label(const std::string& method) {
  static const std::string known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"};
  static const std::string other = "other";
  for (const auto& m : known)
    if (m == method) return m;
  return other;
}

}  // namespace

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::observe_request(const std::string& method, const std::string& route, int status, double seconds) {
  const std::string& m = method_label(method);
  std::string code = status >= 100 && status <= 599 ? std::to_string(status) : "other";
  impl_->requests.Add({{"method", m}, {"route", route}, {"status", code}}).Increment();
  impl_->latency.Add({{"method", m}, {"route", route}}, latency_buckets()).Observe(seconds);
}

void Metrics::observe_connection_closed(const std::string& reason) {
  impl_->closed.Add({{"reason", reason}}).Increment();
}

void Metrics::observe_reconcile(const std::string& kind, const std::string& result) {
  impl_->reconciles.Add({{"kind", kind}, {"result", result}}).Increment();
}

void Metrics::observe_handshake(bool resumed) { (resumed ? impl_->resumed : impl_->full).Increment(); }

void Metrics::observe_sync(const std::string& outcome, double seconds) {
  impl_->sync.Add({{"outcome", outcome}}, sync_buckets()).Observe(seconds);
}

void Metrics::set_connected_agents_source(std::function<double()> source) {
  std::lock_guard lock(impl_->mutex);
  impl_->agents_source = std::move(source);
}

void Metrics::set_waiting_syncs_source(std::function<double()> source) {
  std::lock_guard lock(impl_->mutex);
  impl_->waiting_source = std::move(source);
}

std::string Metrics::render() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->agents_source) impl_->agents.Add({}).Set(impl_->agents_source());
    if (impl_->waiting_source) impl_->waiting.Add({}).Set(impl_->waiting_source());
  }
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

}  // namespace byoc::server
