// Dispatcher: what happens to every parsed request before and after its
// handler. It gives the request an id (answered as X-Request-Id), finds the
// route (404/405 otherwise), admits the caller as the route's Access says
// (see admission.h; handlers never check tokens), runs the handler, and when
// the answer goes out counts it in the metrics (route pattern or "unmatched",
// closed label sets), writes the access log line and, for a route whose
// Effect is kChange, hands the audit record to the AuditSink. Nothing a handler throws escapes as a
// dropped connection: a byoc::Error is its answer, anything else a 500 that
// names the request id (the failure itself is logged with that id).
//
// Thread-safe: called on the I/O threads; answers may come from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "base/clock.h"
#include "server/access_log.h"
#include "server/admission.h"
#include "server/audit.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/router.h"

namespace byoc::server {

class Dispatcher {
 public:
  // `access_log` may be null (off); without `admission` every API-token route
  // answers 500, without `audit` nothing is audited (tests only). All must
  // outlive the dispatcher.
  Dispatcher(const Router& router, Metrics& metrics, const Clock& clock, AccessLog* access_log,
             Admission* admission = nullptr, AuditSink* audit = nullptr);

  void dispatch(HttpRequest& request, std::shared_ptr<Responder> responder);

  // Counts and logs a request the listener refused before it had a route
  // (malformed, too large, timed out): `status` is what it answered.
  void rejected(const std::string& source, int status);

  // A new request id: this process's random prefix and a counter.
  std::string next_request_id();

 private:
  const Router& router_;
  Metrics& metrics_;
  const Clock& clock_;
  AccessLog* access_log_;
  Admission* admission_;
  AuditSink* audit_;
  std::string id_prefix_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace byoc::server
