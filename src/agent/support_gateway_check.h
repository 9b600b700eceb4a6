// The support gateway's check: nginx (HTTPS, `ssl_verify_client on` against
// the environment's support CA and CRL) asks it, per request, whether to let
// a support engineer's request through to ClickHouse: only the certificate of
// an active clickhouse-system grant is (a kubernetes-readonly one goes to
// the Kubernetes API alone, kube_support_proxy.h).
//
// nginx sends, over HTTP (loopback, or a cluster's network), `GET /check` (auth_request: admit or
// refuse) or `GET /refused` (error_page for 495/496: the client certificate
// failed TLS verification; always refused, only counted; HEAD is answered
// like GET) with headers (nginx leaves out one whose value is empty: a
// missing Verify or Serial counts as empty)
//   X-Byoc-Check-Key    the 64-hex secret the check was made with
//   X-Byoc-Service      the service (DNS-1123 label)
//   X-Byoc-Verify       $ssl_client_verify: SUCCESS | NONE | FAILED:<reason>
//   X-Byoc-Serial       $ssl_client_serial (uppercase hex, may be empty)
//   X-Byoc-Uri          $request_uri (raw: percent-encoded path and query)
//   X-Byoc-Credentials  1 when the client sent Authorization or an
//                       X-ClickHouse-User/-Key/-Quota header, else 0
// and gets 204 with `X-Byoc-Serial: <normalized serial>` (nginx makes it the
// ClickHouse quota key) to admit, or 403 with
// {"error":{"code":<gateway_denial_codes()>,"message":...,"field":""}} to
// refuse. Every 403 is handed to `on_denial` (the audit trail); a wrong key
// (401) or a malformed request (400/404/405) is not: it did not come from
// our nginx, or nginx is misconfigured, and either way nothing is admitted.
//
// Nothing here logs a header value: the URI can hold SQL and passwords.
//
// Threading: the pure functions are thread-safe. GatewayCheckServer runs its
// own I/O thread; `grant_scope` and `on_denial` are called on it (keep them
// short: they hold up every gateway request meanwhile).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace byoc::agent {

// What the check needs of one request (header values as nginx sent them).
struct GatewayCheckRequest {
  bool refused = false;  // path /refused: TLS verification already failed
  std::string verify;
  std::string serial;
  std::string uri;
  bool credentials = false;
  // The certificate shown (X-Byoc-Certificate, nginx's escaped PEM) was
  // signed by the support CA. Only then does a TLS refusal name its reason
  // and serial: anyone can make an expired certificate bearing an
  // engineer's serial under a CA of their own, and nginx then reports the
  // expiry rather than the stranger.
  bool issued_here = false;
};

struct GatewayVerdict {
  bool admit = false;
  std::string reason;  // a gateway_denial_codes() entry when refused
  std::string serial;  // normalized_serial() of the request's serial
};

// The scope of the grant active now that `serial` (normalized) is a
// certificate of; "" when none is.
using GatewayGrantScope = std::function<std::string(const std::string& serial)>;
// Did the support CA sign this certificate (PEM), whatever its validity?
using GatewayIssuedHere = std::function<bool(const std::string& certificate_pem)>;

// A certificate serial as the protocol carries it: lowercase hex without
// leading zeros ("0A1B" → "a1b"); "" for anything but 1–64 hex digits after
// stripping zeros (empty, zero, a sign, other characters). Both sides of a
// comparison must go through it: OpenSSL's BN_bn2hex (crypto::inspect's
// serial_hex) and nginx print whole bytes, so either may lead with a 0.
std::string normalized_serial(std::string_view raw);

// The refusal reason for an X-Byoc-Verify value; "" for SUCCESS. NONE or
// empty is no_certificate; a FAILED: text OpenSSL gives for expiry,
// revocation or the CRL maps to its code; anything else is
// certificate_untrusted.
std::string verify_denial_reason(std::string_view verify);

// Whether a raw request URI hands ClickHouse credentials of its own: a query
// parameter named user, password or quota_key once percent-decoded ('+' as
// space) and compared ASCII case-insensitively, as ClickHouse decodes names
// (`us%65r=` is `user=`). A URI with a malformed %-escape counts too: it
// cannot be read the way ClickHouse would read it, so it fails closed.
bool uri_supplies_credentials(std::string_view uri);

// The decision, in this order: certificate (/refused always refuses, as
// certificate_untrusted if verify claims SUCCESS; /check refuses any verify
// but SUCCESS; a refused certificate the support CA did not sign is
// certificate_untrusted without a serial), then credentials, then the grant (a certificate without a
// usable serial is grant_inactive; `grant_scope` gets the normalized serial),
// then its scope (clickhouse-system, else scope_mismatch).
GatewayVerdict judge_gateway_request(const GatewayCheckRequest& request, const GatewayGrantScope& grant_scope);

// A sentence for the 403 body.
std::string gateway_denial_message(const std::string& reason);

struct GatewayCheckLimits {
  size_t max_connections = 256;           // more are closed as soon as accepted
  // Request line and headers: nginx's own limits on the client's request
  // line (8 KiB) plus the escaped certificate fit well inside, so no
  // refusal goes uncounted for its size.
  size_t header_limit = 64 * 1024;
  std::chrono::milliseconds read_timeout{5000};   // for each request head, idle keep-alive included
  std::chrono::milliseconds write_timeout{5000};  // for each answer
  size_t max_requests_per_connection = 1000;      // then Connection: close
};

class GatewayCheckServer {
 public:
  using OnDenial =
      std::function<void(const std::string& service, const std::string& reason, const std::string& serial)>;

  // Listens on `listen_host`:`port` (an IP address: loopback where the
  // gateways run on this machine, every address where they run in other
  // pods; port 0: any free port) and starts serving on its own thread.
  // `check_key` must be 64 hex digits and `listen_host` an IP address (else
  // byoc::Error kInvalid); a port that can't be bound throws byoc::Error
  // (kUnavailable). `issued_here` decides GatewayCheckRequest::issued_here
  // from the X-Byoc-Certificate header (none: every refused certificate is a
  // stranger's).
  GatewayCheckServer(std::string check_key, GatewayGrantScope grant_scope, OnDenial on_denial,
                     GatewayCheckLimits limits = {}, uint16_t port = 0, GatewayIssuedHere issued_here = nullptr,
                     const std::string& listen_host = "127.0.0.1");
  // stop().
  ~GatewayCheckServer();
  GatewayCheckServer(const GatewayCheckServer&) = delete;
  GatewayCheckServer& operator=(const GatewayCheckServer&) = delete;

  uint16_t port() const;

  // Stops serving and joins the I/O thread: returns once a handler that runs
  // finishes (no waiting on clients); open connections are dropped. Never
  // call it from `granted` or `on_denial`. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byoc::agent
