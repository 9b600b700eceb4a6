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
};

// What an empty allowlist means.
std::vector<std::string> default_allowed_cidrs();

std::string render_nginx_config(const NginxEndpointConfig& config);

}  // namespace byoc::render
