// Renders the nginx.conf of a service endpoint: HTTPS on one loopback port in
// front of the service's ClickHouse HTTP ports, the customer's IP allowlist,
// and (optionally) the native protocol over TLS through the stream module.
// Everything nginx writes (pid, logs, temp files) stays under paths the caller
// gives, so many endpoints share one machine and none touches /etc/nginx or
// /var. Pure text generator; inputs are checked (render/validate.h) and a bad
// one throws byoc::Error kInvalid. Thread-safe.
//
// The runtime's own probes come from `probe_source` (127.0.0.1): it may read
// /ping (ClickHouse's unauthenticated liveness answer) and /.byoc/revision
// (which config generation is live) whatever the allowlist says, so readiness
// and reload checks work when the customer allows only remote networks.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace byoc::render {

struct NginxUpstream {
  std::string host = "127.0.0.1";
  int port = 0;
  // Not known to answer (starting, restarting, dead): listed, but sent no
  // traffic. An upstream whose servers are all down answers 502 at once.
  bool down = false;
};

// Troubleshooting access for the vendor's engineers: a second HTTPS server
// in the endpoint's nginx, on its own port, admitting only client
// certificates of the support CA (checked against its CRL, no session
// resumption) and asking the agent's gateway check about every request
// (auth_request, failing closed: the check answers 204 with X-Byoc-Serial to
// admit, 403 or 401 to refuse; anything but 2xx/401/403, or no answer, is a
// 500). What it admits goes to the service's ClickHouse as the read-only
// `clickhouse_user`, with the certificate's serial (as the check returns it
// in X-Byoc-Serial) as quota key and in the User-Agent, over its own
// upstream connections bound to `upstream_source` (never the endpoint's
// keep-alive pool), so the ClickHouse user can be limited to that source.
// A request whose certificate fails verification (none, expired, another CA,
// revoked) is passed to the check's /refused, whose answer is relayed.
struct NginxSupportGateway {
  int port = 0;                 // HTTPS, on listen_host
  std::string ca_file;          // absolute: the support CA (client certificates)
  std::string crl_file;         // absolute: its CRL
  std::string check_address;    // "127.0.0.1:PORT": the agent's gateway check (HTTP)
  std::string check_key;        // 64 lowercase hex, sent as X-Byoc-Check-Key
  std::string service;          // the service name, sent as X-Byoc-Service
  std::string clickhouse_user = "support";
  // 64 lowercase hex: the support user's password as sent (X-ClickHouse-Key);
  // users.xml holds its SHA-256 (ClickHouseSupportUser::password_sha256_hex).
  std::string clickhouse_key;
  // The loopback address nginx connects to ClickHouse from for support
  // traffic (proxy_bind): the support user's only network.
  std::string upstream_source;
  int keepalive_requests = 100;
  int keepalive_time_seconds = 300;
  int keepalive_timeout_seconds = 30;
  // Requests of one certificate in flight at once (limit_conn; more get 429).
  int max_requests_in_flight = 4;  // 0: no keep-alive
  // "HOST:PORT" of the agent's kubernetes-readonly proxy (HTTP), where
  // requests under /k8s/ go, prefix removed (agent/kube_support_proxy.h);
  // "" when the environment has no Kubernetes API to reach (the local
  // runtime): /k8s/ is then ClickHouse's like any other path.
  std::string kube_proxy_address;
  // The longest a Kubernetes answer streams (a watch, logs -f).
  int kube_read_timeout_seconds = 1800;
};

struct NginxEndpointConfig {
  // Absolute files / directories (directories end in '/').
  std::string pid_file;
  std::string error_log_file;
  std::string access_log_file;
  std::string temp_dir;  // nginx creates its body/proxy/... temp dirs below it
  std::string certificate_file;
  std::string certificate_key_file;

  std::string listen_host = "127.0.0.1";
  int https_port = 0;
  // Native protocol over TLS (clickhouse-client --secure); 0 renders no
  // stream block and loads no stream module.
  int native_tls_port = 0;
  std::string stream_module_file = "/usr/lib/nginx/modules/ngx_stream_module.so";

  // Every replica of every shard: any replica can coordinate a query over the
  // service's cluster. Between the runtime's own health updates (which mark
  // servers down and reload), nginx's passive checks take a server out for
  // `fail_timeout_seconds` after `max_fails` failed attempts.
  std::vector<NginxUpstream> http_upstreams;    // the replicas' http ports
  std::vector<NginxUpstream> native_upstreams;  // the replicas' tcp ports (with native_tls_port)
  int max_fails = 1;
  int fail_timeout_seconds = 5;
  // The loopback address nginx connects to the replicas from (proxy_bind);
  // empty: the kernel's choice (127.0.0.1). A replica can then tell the
  // endpoint's connections from the ones of its siblings and local tools.
  std::string upstream_source;

  // Canonical CIDRs (or addresses) allowed to connect; empty means loopback
  // only (127.0.0.1/32 and ::1/128). Everything else is denied (HTTP 403; the
  // stream port closes the connection).
  std::vector<std::string> allowed_cidrs;
  std::string probe_source = "127.0.0.1";

  // Longer than ClickHouse's max_execution_time, so ClickHouse, not nginx,
  // ends a long query and says why.
  int upstream_read_timeout_seconds = 660;
  int worker_processes = 1;
  // Served verbatim at /.byoc/revision to probe_source: the runtime compares
  // it with what it wrote to know that a reload has taken effect.
  std::string revision;

  // Rendered as a second server (and its own upstream) when set. Its
  // upstream_source must differ from the endpoint's (127.0.0.1 when empty).
  std::optional<NginxSupportGateway> support_gateway;
};

// What an empty allowlist means.
std::vector<std::string> default_allowed_cidrs();

std::string render_nginx_config(const NginxEndpointConfig& config);

}  // namespace byoc::render
