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
