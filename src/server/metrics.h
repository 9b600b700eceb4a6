// Metrics: the management plane's Prometheus series (prometheus-cpp core;
// served as text by GET /metrics). Thread-safe: observe from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace byoc::server {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // One API request: route is the pattern ("/v1/environments/{env}"), so the
  // series stay few whatever the names in URLs; the caller passes
  // "unmatched" for a path no route knows. Unknown methods count as "other".
  void observe_request(const std::string& method, const std::string& route, int status, double seconds);
  // A connection the server closed before or instead of serving it: reason
  // is one of HttpsServer's close reasons (a closed set).
  void observe_connection_closed(const std::string& reason);
  // One reconcile of a resource kind: result "success" or "error".
  void observe_reconcile(const std::string& kind, const std::string& result);
  // One agent sync answered: outcome "immediate", "changed" or "unchanged"
  // (held until the deadline), with the time from request to answer.
  void observe_sync(const std::string& outcome, double seconds);
  // One completed TLS handshake: resumed a session or not.
  void observe_handshake(bool resumed);
  // Read at scrape time.
  void set_connected_agents_source(std::function<double()> source);
  void set_waiting_syncs_source(std::function<double()> source);  // syncs held open

  std::string render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byoc::server
