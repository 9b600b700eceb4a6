#include "render/nginx_config.h"

#include <fmt/format.h>

#include <iterator>

#include "base/error.h"
#include "render/validate.h"

namespace byoc::render {
namespace {

template <typename... Args>
void emit(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  out += '\n';
}

bool is_address(const std::string& value) {
  return is_ip_or_cidr(value) && value.find('/') == std::string::npos;
}

void check_upstreams(const std::vector<NginxUpstream>& upstreams, std::string_view field) {
  // All may be down, but nginx refuses an upstream block with no server.
  if (upstreams.empty())
    throw Error::Invalid("invalid_config_value", std::string(field) + ": no upstream", std::string(field));
  for (const auto& u : upstreams) {
    if (!is_address(u.host))
      throw Error::Invalid("invalid_config_value", std::string(field) + ": upstream host must be an address",
                           std::string(field));
    require_port(u.port, field);
  }
}

Error invalid(const std::string& field, const std::string& why) {
  return Error::Invalid("invalid_config_value", field + ": " + why, field);
}

// "IPv4:PORT" or "[IPv6]:PORT".
void require_host_port(const std::string& value, const std::string& field) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) throw invalid(field, "must be ADDRESS:PORT");
  std::string host = value.substr(0, colon);
  std::string port = value.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw invalid(field, "must be ADDRESS:PORT");
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string::npos) throw invalid(field, "only IPv6 addresses take brackets");
  } else if (host.find(':') != std::string::npos) {
    throw invalid(field, "an IPv6 address must be in brackets");
  }
  if (!is_address(host)) throw invalid(field, "must be ADDRESS:PORT");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw invalid(field, "must be ADDRESS:PORT");
  require_port(std::stoi(port), field);
}

void check_gateway(const NginxSupportGateway& g, const NginxEndpointConfig& c) {
  require_port(g.port, "support_gateway.port");
  if (g.port == c.https_port || (c.native_tls_port != 0 && g.port == c.native_tls_port))
    throw invalid("support_gateway.port", "must differ from the endpoint's ports");
  require_absolute_path(g.ca_file, "support_gateway.ca_file");
  require_absolute_path(g.crl_file, "support_gateway.crl_file");
  require_host_port(g.check_address, "support_gateway.check_address");
  if (!g.kube_proxy_address.empty()) require_host_port(g.kube_proxy_address, "support_gateway.kube_proxy_address");
  if (g.kube_read_timeout_seconds < 1) throw invalid("support_gateway.kube_read_timeout_seconds", "must be >= 1");
  require_sha256_hex(g.check_key, "support_gateway.check_key");
  require_identifier(g.service, "support_gateway.service");
  require_identifier(g.clickhouse_user, "support_gateway.clickhouse_user");
  require_sha256_hex(g.clickhouse_key, "support_gateway.clickhouse_key");
  if (!is_address(g.upstream_source))
    throw invalid("support_gateway.upstream_source", "must be an address");
  // The support user is limited to this source: the endpoint's connections
  // (and local tools on 127.0.0.1 when the endpoint has no source) must not
  // come from it.
  const std::string endpoint_source = c.upstream_source.empty() ? "127.0.0.1" : c.upstream_source;
  if (g.upstream_source == endpoint_source || g.upstream_source == c.probe_source)
    throw invalid("support_gateway.upstream_source", "must differ from the endpoint's source");
  if (g.keepalive_requests < 1) throw invalid("support_gateway.keepalive_requests", "must be >= 1");
  if (g.keepalive_time_seconds < 1) throw invalid("support_gateway.keepalive_time_seconds", "must be >= 1");
  if (g.keepalive_timeout_seconds < 0)
    throw invalid("support_gateway.keepalive_timeout_seconds", "must be >= 0");
  if (g.max_requests_in_flight < 1) throw invalid("support_gateway.max_requests_in_flight", "must be >= 1");
}

void check(const NginxEndpointConfig& c) {
  require_absolute_path(c.pid_file, "pid_file");
  require_absolute_path(c.error_log_file, "error_log_file");
  require_absolute_path(c.access_log_file, "access_log_file");
  require_absolute_dir(c.temp_dir, "temp_dir");
  require_absolute_path(c.certificate_file, "certificate_file");
  require_absolute_path(c.certificate_key_file, "certificate_key_file");
  if (!is_address(c.listen_host))
    throw Error::Invalid("invalid_config_value", "listen_host must be an address", "listen_host");
  if (!is_address(c.probe_source))
    throw Error::Invalid("invalid_config_value", "probe_source must be an address", "probe_source");
  require_port(c.https_port, "https_port");
  check_upstreams(c.http_upstreams, "http_upstreams");
  if (c.native_tls_port != 0) {
    require_port(c.native_tls_port, "native_tls_port");
    if (c.native_tls_port == c.https_port)
      throw Error::Invalid("invalid_config_value", "native_tls_port must differ from https_port",
                           "native_tls_port");
    require_absolute_path(c.stream_module_file, "stream_module_file");
    check_upstreams(c.native_upstreams, "native_upstreams");
  }
  for (const auto& cidr : c.allowed_cidrs) require_ip_or_cidr(cidr, "allowed_ips");
  if (c.upstream_read_timeout_seconds < 1)
    throw Error::Invalid("invalid_config_value", "upstream_read_timeout_seconds must be >= 1",
                         "upstream_read_timeout_seconds");
  if (c.max_fails < 1) throw Error::Invalid("invalid_config_value", "max_fails must be >= 1", "max_fails");
  if (c.fail_timeout_seconds < 1)
    throw Error::Invalid("invalid_config_value", "fail_timeout_seconds must be >= 1", "fail_timeout_seconds");
  if (!c.upstream_source.empty() && !is_address(c.upstream_source))
    throw Error::Invalid("invalid_config_value", "upstream_source must be an address", "upstream_source");
  if (c.worker_processes < 1)
    throw Error::Invalid("invalid_config_value", "worker_processes must be >= 1", "worker_processes");
  for (char ch : c.revision)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')))
      throw Error::Invalid("invalid_config_value", "revision must be [0-9a-z]", "revision");
  if (c.support_gateway) check_gateway(*c.support_gateway, c);
}

std::string host_port(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

void emit_servers(std::string& out, const std::vector<NginxUpstream>& upstreams,
                  const NginxEndpointConfig& c) {
  for (const auto& u : upstreams)
    emit(out, "    server {} max_fails={} fail_timeout={}s{};", host_port(u.host, u.port), c.max_fails,
         c.fail_timeout_seconds, u.down ? " down" : "");
}

void emit_allowlist(std::string& out, const std::vector<std::string>& cidrs, const char* indent) {
  const std::vector<std::string>& allowed = cidrs.empty() ? default_allowed_cidrs() : cidrs;
  for (const auto& cidr : allowed) emit(out, "{}allow {};", indent, cidr);
  emit(out, "{}deny all;", indent);
}

void emit_tls(std::string& out, const NginxEndpointConfig& c, const char* indent) {
  emit(out, "{}ssl_certificate {};", indent, c.certificate_file);
  emit(out, "{}ssl_certificate_key {};", indent, c.certificate_key_file);
  emit(out, "{}ssl_protocols TLSv1.2 TLSv1.3;", indent);
  emit(out, "{}ssl_prefer_server_ciphers on;", indent);
}

// The headers every call to the gateway check carries. Nothing of the
// client's request goes along but what is named here
// (proxy_pass_request_headers off): not its credentials, not its body.
void emit_check_headers(std::string& out, const NginxSupportGateway& g, const char* indent) {
  emit(out, "{}proxy_pass_request_headers off;", indent);
  emit(out, "{}proxy_pass_request_body off;", indent);
  emit(out, "{}proxy_set_header Content-Length \"\";", indent);
  emit(out, "{}proxy_set_header X-Byoc-Check-Key {};", indent, g.check_key);
  emit(out, "{}proxy_set_header X-Byoc-Service {};", indent, g.service);
  emit(out, "{}proxy_set_header X-Byoc-Verify $ssl_client_verify;", indent);
  emit(out, "{}proxy_set_header X-Byoc-Serial $ssl_client_serial;", indent);
  emit(out, "{}proxy_set_header X-Byoc-Uri $request_uri;", indent);
  emit(out, "{}proxy_set_header X-Byoc-Credentials $support_client_credentials;", indent);
  // The certificate itself (escaped PEM, empty when none): the check names a
  // refused certificate only when the support CA signed it.
  emit(out, "{}proxy_set_header X-Byoc-Certificate $ssl_client_escaped_cert;", indent);
  emit(out, "{}proxy_http_version 1.1;", indent);
  emit(out, "{}proxy_connect_timeout 2s;", indent);
  emit(out, "{}proxy_send_timeout 5s;", indent);
  emit(out, "{}proxy_read_timeout 5s;", indent);
}

// http-level parts of the support gateway: its log format, the map telling
// the check whether the client sent credentials of its own, its upstream.
void emit_gateway_http(std::string& out, const NginxEndpointConfig& c) {
  // No $request / $args here either.
  emit(out,
       "  log_format byoc_support '$remote_addr [$time_iso8601] \"$request_method $uri\" $status "
       "$body_bytes_sent $request_time $ssl_client_verify $ssl_client_serial';");
  emit(out,
       "  map \"$http_authorization$http_x_clickhouse_user$http_x_clickhouse_key$http_x_clickhouse_quota\" "
       "$support_client_credentials {{");
  emit(out, "    \"\" 0;");
  emit(out, "    default 1;");
  emit(out, "  }}");
  // Its own pool: nginx matches idle upstream connections by peer only, so a
  // shared upstream could hand a connection bound from the endpoint's source
  // to support traffic and the other way round.
  // Requests in flight per certificate (no certificate: not counted, and refused anyway).
  emit(out, "  limit_conn_zone $ssl_client_serial zone=byoc_support_conn:1m;");
  emit(out, "  upstream clickhouse_support {{");
  emit_servers(out, c.http_upstreams, c);
  emit(out, "    keepalive 4;");
  emit(out, "  }}");
}

// The Kubernetes API, read-only, for kubernetes-readonly grants: the agent's
// proxy decides every request itself (grant, scope, what the read-only role
// allows) and audits it, so no auth_request here. It hears only what it
// needs: its key, the certificate's verification and serial, and what the
// client accepts; never the client's Authorization or Impersonate-* headers.
void emit_kube_location(std::string& out, const NginxSupportGateway& g) {
  emit(out, "    location /k8s/ {{");
  emit(out, "      proxy_pass http://{}/;", g.kube_proxy_address);
  emit(out, "      proxy_pass_request_headers off;");
  emit(out, "      proxy_set_header Host $proxy_host;");
  emit(out, "      proxy_set_header X-Byoc-Check-Key {};", g.check_key);
  emit(out, "      proxy_set_header X-Byoc-Verify $ssl_client_verify;");
  emit(out, "      proxy_set_header X-Byoc-Serial $ssl_client_serial;");
  emit(out, "      proxy_set_header Accept $http_accept;");
  emit(out, "      proxy_set_header Accept-Encoding $http_accept_encoding;");
  // A body would be a write: the proxy refuses it, and it never needs one.
  emit(out, "      proxy_pass_request_body off;");
  emit(out, "      proxy_set_header Content-Length \"\";");
  emit(out, "      proxy_http_version 1.1;");
  emit(out, "      proxy_buffering off;");
  emit(out, "      proxy_connect_timeout 5s;");
  emit(out, "      proxy_read_timeout {}s;", g.kube_read_timeout_seconds);
  emit(out, "    }}");
}

void emit_gateway_server(std::string& out, const NginxEndpointConfig& c) {
  const NginxSupportGateway& g = *c.support_gateway;
  emit(out, "  server {{");
  emit(out, "    listen {} ssl;", host_port(c.listen_host, g.port));
  emit_tls(out, c, "    ");
  emit(out, "    ssl_verify_client on;");
  emit(out, "    ssl_client_certificate {};", g.ca_file);
  emit(out, "    ssl_verify_depth 1;");
  emit(out, "    ssl_crl {};", g.crl_file);
  // A resumed session skips certificate verification (expiry, the CRL as
  // reloaded since): every connection makes a full handshake.
  emit(out, "    ssl_session_cache off;");
  emit(out, "    ssl_session_tickets off;");
  // A connection outlives its certificate and its grant: bound it.
  emit(out, "    keepalive_requests {};", g.keepalive_requests);
  emit(out, "    keepalive_time {}s;", g.keepalive_time_seconds);
  emit(out, "    keepalive_timeout {}s;", g.keepalive_timeout_seconds);
  emit(out, "    access_log {} byoc_support;", c.access_log_file);
  emit(out, "    client_max_body_size 0;");
  // 495: the certificate failed verification; 496: none was sent. The
  // check says why, in its own words, and records the attempt.
  emit(out, "    error_page 495 496 = @support_refused;");
  emit(out, "    limit_conn byoc_support_conn {};", g.max_requests_in_flight);
  emit(out, "    limit_conn_status 429;");
  emit(out, "    location = /.byoc/support-check {{");
  emit(out, "      internal;");
  emit(out, "      proxy_pass http://{}/check;", g.check_address);
  emit_check_headers(out, g, "      ");
  emit(out, "    }}");
  emit(out, "    location @support_refused {{");
  // A named location's proxy_pass takes no URI: rewrite it, dropping the
  // client's arguments ('?').
  emit(out, "      rewrite ^ /refused? break;");
  emit(out, "      proxy_method GET;");
  emit(out, "      proxy_pass http://{};", g.check_address);
  emit_check_headers(out, g, "      ");
  emit(out, "    }}");
  // A refusal by the check, or no answer from it (nginx's 500), in the same
  // JSON shape as the TLS refusals; ClickHouse's own answers pass as they are
  // (proxy_intercept_errors is off).
  emit(out, "    location @support_denied {{");
  emit(out, "      default_type application/json;");
  emit(out,
       "      return 403 '{{\"error\":{{\"code\":\"$support_refusal\",\"message\":\"the support gateway "
       "refused this request\",\"field\":\"\"}}}}';");
  emit(out, "    }}");
  emit(out, "    location @support_check_failed {{");
  emit(out, "      default_type application/json;");
  emit(out,
       "      return 503 '{{\"error\":{{\"code\":\"check_unavailable\",\"message\":\"the agent of the "
       "environment did not answer the gateway check: nothing is admitted\",\"field\":\"\"}}}}';");
  emit(out, "    }}");
  if (!g.kube_proxy_address.empty()) emit_kube_location(out, g);
  // Everything, /ping included, goes through the check.
  emit(out, "    location / {{");
  emit(out, "      auth_request /.byoc/support-check;");
  emit(out, "      auth_request_set $support_serial $upstream_http_x_byoc_serial;");
  emit(out, "      auth_request_set $support_refusal $upstream_http_x_byoc_refusal;");
  emit(out, "      error_page 403 = @support_denied;");
  emit(out, "      error_page 500 = @support_check_failed;");
  emit(out, "      proxy_pass http://clickhouse_support;");
  emit(out, "      proxy_bind {};", g.upstream_source);
  emit(out, "      proxy_request_buffering off;");
  emit(out, "      proxy_buffering off;");
  emit(out, "      proxy_http_version 1.1;");
  emit(out, "      proxy_connect_timeout 5s;");
  emit(out, "      proxy_read_timeout {}s;", c.upstream_read_timeout_seconds);
  emit(out, "      proxy_send_timeout {}s;", c.upstream_read_timeout_seconds);
  // Whoever the client claims to be, ClickHouse sees the support user, keyed
  // (quota, query_log.quota_key) by the certificate the check admitted.
  emit(out, "      proxy_set_header Authorization \"\";");
  emit(out, "      proxy_set_header Cookie \"\";");
  emit(out, "      proxy_set_header Connection \"\";");
  emit(out, "      proxy_set_header X-ClickHouse-User {};", g.clickhouse_user);
  emit(out, "      proxy_set_header X-ClickHouse-Key {};", g.clickhouse_key);
  emit(out, "      proxy_set_header X-ClickHouse-Quota $support_serial;");
  emit(out, "      proxy_set_header User-Agent \"byoc-support serial=$support_serial dn=$ssl_client_s_dn\";");
  emit(out, "    }}");
  emit(out, "  }}");
}

}  // namespace

std::vector<std::string> default_allowed_cidrs() { return {"127.0.0.1/32", "::1/128"}; }

std::string render_nginx_config(const NginxEndpointConfig& c) {
  check(c);
  const std::string& temp = c.temp_dir;
  std::string out;
  emit(out, "# Rendered by byoc; rewritten on every apply and reloaded with SIGHUP.");
  if (c.native_tls_port != 0) emit(out, "load_module {};", c.stream_module_file);
  emit(out, "daemon off;");
  emit(out, "master_process on;");
  emit(out, "worker_processes {};", c.worker_processes);
  emit(out, "pid {};", c.pid_file);
  emit(out, "error_log {} warn;", c.error_log_file);
  emit(out, "events {{");
  emit(out, "  worker_connections 1024;");
  emit(out, "}}");
  emit(out, "http {{");
  // No $request / $args: the query string can carry SQL text and passwords.
  emit(out,
       "  log_format byoc '$remote_addr [$time_iso8601] \"$request_method $uri\" $status "
       "$body_bytes_sent $request_time';");
  emit(out, "  access_log {} byoc;", c.access_log_file);
  emit(out, "  client_body_temp_path {}client_body;", temp);
  emit(out, "  proxy_temp_path {}proxy;", temp);
  emit(out, "  fastcgi_temp_path {}fastcgi;", temp);
  emit(out, "  uwsgi_temp_path {}uwsgi;", temp);
  emit(out, "  scgi_temp_path {}scgi;", temp);
  emit(out, "  server_tokens off;");
  emit(out, "  keepalive_timeout 60s;");
  emit(out, "  keepalive_requests 1000;");
  emit(out, "  keepalive_time 1h;");
  emit(out, "  upstream clickhouse_http {{");
  emit_servers(out, c.http_upstreams, c);
  emit(out, "    keepalive 16;");
  emit(out, "  }}");
  if (c.support_gateway) emit_gateway_http(out, c);
  emit(out, "  server {{");
  emit(out, "    listen {} ssl;", host_port(c.listen_host, c.https_port));
  emit_tls(out, c, "    ");
  emit(out, "    ssl_session_cache shared:byoc_ssl:1m;");
  emit(out, "    ssl_session_timeout 10m;");
  // ClickHouse streams: INSERT bodies of any size in, results out, unbuffered
  // (so nothing is written to temp files the unprivileged workers can't reach).
  emit(out, "    client_max_body_size 0;");
  emit(out, "    proxy_request_buffering off;");
  emit(out, "    proxy_buffering off;");
  emit(out, "    proxy_http_version 1.1;");
  emit(out, "    proxy_set_header Connection \"\";");
  emit(out, "    proxy_connect_timeout 5s;");
  emit(out, "    proxy_read_timeout {}s;", c.upstream_read_timeout_seconds);
  emit(out, "    proxy_send_timeout {}s;", c.upstream_read_timeout_seconds);
  if (!c.upstream_source.empty()) emit(out, "    proxy_bind {};", c.upstream_source);
  emit_allowlist(out, c.allowed_cidrs, "    ");
  emit(out, "    location = /ping {{");
  emit(out, "      allow {};", c.probe_source);
  emit_allowlist(out, c.allowed_cidrs, "      ");
  emit(out, "      proxy_pass http://clickhouse_http;");
  emit(out, "    }}");
  emit(out, "    location = /.byoc/revision {{");
  // `return` runs before the access phase, so the source check must be an `if`.
  emit(out, "      if ($remote_addr != \"{}\") {{", c.probe_source);
  emit(out, "        return 403;");
  emit(out, "      }}");
  emit(out, "      default_type text/plain;");
  emit(out, "      return 200 \"{}\";", c.revision);
  emit(out, "    }}");
  emit(out, "    location / {{");
  emit(out, "      proxy_pass http://clickhouse_http;");
  emit(out, "    }}");
  emit(out, "  }}");
  if (c.support_gateway) emit_gateway_server(out, c);
  emit(out, "}}");
  if (c.native_tls_port != 0) {
    emit(out, "stream {{");
    emit(out, "  upstream clickhouse_native {{");
    emit_servers(out, c.native_upstreams, c);
    emit(out, "  }}");
    emit(out, "  server {{");
    emit(out, "    listen {} ssl;", host_port(c.listen_host, c.native_tls_port));
    emit_tls(out, c, "    ");
    emit_allowlist(out, c.allowed_cidrs, "    ");
    emit(out, "    proxy_connect_timeout 5s;");
    emit(out, "    proxy_timeout {}s;", c.upstream_read_timeout_seconds);
    if (!c.upstream_source.empty()) emit(out, "    proxy_bind {};", c.upstream_source);
    emit(out, "    proxy_pass clickhouse_native;");
    emit(out, "  }}");
    emit(out, "}}");
  }
  return out;
}

}  // namespace byoc::render
