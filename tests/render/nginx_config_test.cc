#include "render/nginx_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"

namespace byoc::render {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

NginxEndpointConfig endpoint() {
  NginxEndpointConfig c;
  c.pid_file = "/srv/byoc/orders/endpoint/run/nginx.pid";
  c.error_log_file = "/srv/byoc/orders/endpoint/logs/error.log";
  c.access_log_file = "/srv/byoc/orders/endpoint/logs/access.log";
  c.temp_dir = "/srv/byoc/orders/endpoint/tmp/";
  c.certificate_file = "/srv/byoc/orders/endpoint/tls/cert.pem";
  c.certificate_key_file = "/srv/byoc/orders/endpoint/tls/key.pem";
  c.https_port = 18443;
  c.http_upstreams = {{"127.0.0.1", 18123}};
  c.revision = "abc123";
  return c;
}

// The text between `open` and the matching closing brace of its block.
std::string block(const std::string& text, const std::string& open) {
  auto begin = text.find(open);
  if (begin == std::string::npos) return "";
  int depth = 0;
  for (size_t i = text.find('{', begin); i < text.size(); ++i) {
    if (text[i] == '{') ++depth;
    if (text[i] == '}' && --depth == 0) return text.substr(begin, i - begin + 1);
  }
  return "";
}

void expect_invalid(const std::function<void()>& f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "expected kInvalid for " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
    EXPECT_EQ(e.field(), field) << e.what();
  }
}

TEST(NginxConfig, ServesHttpsOnLoopbackWithTheGivenCertificate) {
  std::string conf = render_nginx_config(endpoint());
  std::string server = block(conf, "  server {");
  EXPECT_THAT(server, HasSubstr("listen 127.0.0.1:18443 ssl;"));
  EXPECT_THAT(server, HasSubstr("ssl_certificate /srv/byoc/orders/endpoint/tls/cert.pem;"));
  EXPECT_THAT(server, HasSubstr("ssl_certificate_key /srv/byoc/orders/endpoint/tls/key.pem;"));
  EXPECT_THAT(server, HasSubstr("ssl_protocols TLSv1.2 TLSv1.3;"));
  EXPECT_THAT(block(conf, "upstream clickhouse_http {"),
              HasSubstr("server 127.0.0.1:18123 max_fails=1 fail_timeout=5s;"));
  EXPECT_THAT(block(server, "location / {"), HasSubstr("proxy_pass http://clickhouse_http;"));
  EXPECT_THAT(conf, Not(HasSubstr("listen 0.0.0.0")));
}

TEST(NginxConfig, KeepsEverythingInsideItsOwnDirectories) {
  std::string conf = render_nginx_config(endpoint());
  EXPECT_THAT(conf, HasSubstr("daemon off;"));
  EXPECT_THAT(conf, HasSubstr("pid /srv/byoc/orders/endpoint/run/nginx.pid;"));
  EXPECT_THAT(conf, HasSubstr("error_log /srv/byoc/orders/endpoint/logs/error.log warn;"));
  EXPECT_THAT(conf, HasSubstr("access_log /srv/byoc/orders/endpoint/logs/access.log byoc;"));
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    EXPECT_THAT(conf,
                HasSubstr(std::string(temp) + "_temp_path /srv/byoc/orders/endpoint/tmp/" + temp + ";"));
  EXPECT_THAT(conf, Not(HasSubstr("/etc/nginx")));
  EXPECT_THAT(conf, Not(HasSubstr("/var/")));
  EXPECT_THAT(conf, Not(HasSubstr("include ")));
}

TEST(NginxConfig, AccessLogNeverRecordsTheQueryString) {
  std::string conf = render_nginx_config(endpoint());
  auto format =
      conf.substr(conf.find("log_format"), conf.find(';', conf.find("log_format")) - conf.find("log_format"));
  EXPECT_THAT(format, Not(HasSubstr("$request ")));
  EXPECT_THAT(format, Not(HasSubstr("$request_uri")));
  EXPECT_THAT(format, Not(HasSubstr("$args")));
  EXPECT_THAT(format, Not(HasSubstr("$query_string")));
  EXPECT_THAT(format, HasSubstr("$uri"));
}

TEST(NginxConfig, EmptyAllowlistMeansLoopbackOnly) {
  std::string server = block(render_nginx_config(endpoint()), "  server {");
  auto allow = server.find("    allow 127.0.0.1/32;\n    allow ::1/128;\n    deny all;\n");
  EXPECT_NE(allow, std::string::npos) << server;
  EXPECT_EQ(default_allowed_cidrs(), (std::vector<std::string>{"127.0.0.1/32", "::1/128"}));
}

TEST(NginxConfig, AllowsEachCidrThenDeniesAll) {
  auto c = endpoint();
  c.allowed_cidrs = {"10.0.0.0/8", "203.0.113.7/32", "2001:db8::/32"};
  std::string server = block(render_nginx_config(c), "  server {");
  EXPECT_NE(server.find("    allow 10.0.0.0/8;\n    allow 203.0.113.7/32;\n    allow 2001:db8::/32;\n"
                        "    deny all;\n"),
            std::string::npos)
      << server;
  // The customer's list replaces loopback: 127.0.0.1 is not let in on the data path.
  std::string root = block(server, "location / {");
  EXPECT_THAT(server.substr(0, server.find("location")), Not(HasSubstr("allow 127.0.0.1")));
  EXPECT_THAT(root, Not(HasSubstr("allow")));  // inherits the server's list
}

TEST(NginxConfig, ProbesFromTheRuntimeReachPingAndRevisionOnly) {
  auto c = endpoint();
  c.allowed_cidrs = {"10.0.0.0/8"};
  std::string server = block(render_nginx_config(c), "  server {");
  std::string ping = block(server, "location = /ping {");
  EXPECT_NE(ping.find("allow 127.0.0.1;\n      allow 10.0.0.0/8;\n      deny all;"), std::string::npos)
      << ping;
  EXPECT_THAT(ping, HasSubstr("proxy_pass http://clickhouse_http;"));
  std::string revision = block(server, "location = /.byoc/revision {");
  EXPECT_THAT(revision, HasSubstr("if ($remote_addr != \"127.0.0.1\")"));
  EXPECT_THAT(revision, HasSubstr("return 403;"));
  EXPECT_THAT(revision, HasSubstr("return 200 \"abc123\";"));
  EXPECT_LT(revision.find("return 403;"), revision.find("return 200"));
}

TEST(NginxConfig, StreamsRequestsAndBoundsUpstreamTime) {
  auto c = endpoint();
  c.upstream_read_timeout_seconds = 700;
  std::string server = block(render_nginx_config(c), "  server {");
  EXPECT_THAT(server, HasSubstr("proxy_request_buffering off;"));
  EXPECT_THAT(server, HasSubstr("proxy_buffering off;"));
  EXPECT_THAT(server, HasSubstr("proxy_read_timeout 700s;"));
  EXPECT_THAT(server, HasSubstr("proxy_http_version 1.1;"));
}

TEST(NginxConfig, NoStreamBlockOrModuleWithoutNativePort) {
  std::string conf = render_nginx_config(endpoint());
  EXPECT_THAT(conf, Not(HasSubstr("stream {")));
  EXPECT_THAT(conf, Not(HasSubstr("load_module")));
}

TEST(NginxConfig, NativeProtocolOverTlsWithTheSameCertificateAndAllowlist) {
  auto c = endpoint();
  c.native_tls_port = 19440;
  c.native_upstreams = {{"127.0.0.1", 19000}, {"127.0.0.1", 19001}};
  c.allowed_cidrs = {"192.0.2.0/24"};
  std::string conf = render_nginx_config(c);
  EXPECT_EQ(conf.find("load_module /usr/lib/nginx/modules/ngx_stream_module.so;"), conf.find("load_module"));
  EXPECT_LT(conf.find("load_module"), conf.find("events {"));  // main context, before any block
  std::string stream = block(conf, "stream {");
  ASSERT_FALSE(stream.empty());
  std::string upstream = block(stream, "upstream clickhouse_native {");
  EXPECT_THAT(upstream, HasSubstr("server 127.0.0.1:19000 max_fails=1 fail_timeout=5s;"));
  EXPECT_THAT(upstream, HasSubstr("server 127.0.0.1:19001 max_fails=1 fail_timeout=5s;"));
  std::string server = block(stream, "  server {");
  EXPECT_THAT(server, HasSubstr("listen 127.0.0.1:19440 ssl;"));
  EXPECT_THAT(server, HasSubstr("ssl_certificate /srv/byoc/orders/endpoint/tls/cert.pem;"));
  EXPECT_THAT(server, HasSubstr("ssl_certificate_key /srv/byoc/orders/endpoint/tls/key.pem;"));
  EXPECT_NE(server.find("allow 192.0.2.0/24;\n    deny all;"), std::string::npos) << server;
  EXPECT_THAT(server, HasSubstr("proxy_pass clickhouse_native;"));
}

TEST(NginxConfig, SeveralReplicasBecomeOneUpstream) {
  auto c = endpoint();
  c.http_upstreams = {{"127.0.0.1", 18123}, {"127.0.0.1", 18124}};
  std::string upstream = block(render_nginx_config(c), "upstream clickhouse_http {");
  EXPECT_THAT(upstream, HasSubstr("server 127.0.0.1:18123 max_fails=1 fail_timeout=5s;"));
  EXPECT_THAT(upstream, HasSubstr("server 127.0.0.1:18124 max_fails=1 fail_timeout=5s;"));
}

TEST(NginxConfig, ReplicasNotKnownToAnswerAreListedDown) {
  auto c = endpoint();
  c.native_tls_port = 19440;
  c.http_upstreams = {{"127.0.0.1", 18123, true}, {"127.0.0.1", 18124, false}};
  c.native_upstreams = {{"127.0.0.1", 19000, true}, {"127.0.0.1", 19001, false}};
  c.max_fails = 2;
  c.fail_timeout_seconds = 7;
  std::string conf = render_nginx_config(c);
  std::string http = block(conf, "upstream clickhouse_http {");
  EXPECT_THAT(http, HasSubstr("server 127.0.0.1:18123 max_fails=2 fail_timeout=7s down;"));
  EXPECT_THAT(http, HasSubstr("server 127.0.0.1:18124 max_fails=2 fail_timeout=7s;"));
  std::string native = block(conf, "upstream clickhouse_native {");
  EXPECT_THAT(native, HasSubstr("server 127.0.0.1:19000 max_fails=2 fail_timeout=7s down;"));
  EXPECT_THAT(native, HasSubstr("server 127.0.0.1:19001 max_fails=2 fail_timeout=7s;"));
  // All down is still a valid file (nginx answers 502 at once).
  c.http_upstreams[1].down = true;
  EXPECT_THAT(block(render_nginx_config(c), "upstream clickhouse_http {"),
              HasSubstr("server 127.0.0.1:18124 max_fails=2 fail_timeout=7s down;"));
}

TEST(NginxConfig, ConnectsToReplicasFromTheGivenSource) {
  auto c = endpoint();
  c.native_tls_port = 19440;
  c.native_upstreams = {{"127.0.0.1", 19000}};
  std::string plain = render_nginx_config(c);
  EXPECT_THAT(plain, Not(HasSubstr("proxy_bind")));
  c.upstream_source = "127.0.0.2";
  std::string conf = render_nginx_config(c);
  EXPECT_THAT(block(conf, "  server {"), HasSubstr("    proxy_bind 127.0.0.2;\n"));
  EXPECT_THAT(block(block(conf, "stream {"), "  server {"), HasSubstr("    proxy_bind 127.0.0.2;\n"));
}

TEST(NginxConfig, RefusesInputsThatWouldBreakTheFile) {
  expect_invalid(
      [] {
        auto c = endpoint();
        c.allowed_cidrs = {"10.0.0.0/8; allow all"};
        render_nginx_config(c);
      },
      "allowed_ips");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.allowed_cidrs = {"10.0.0.0/33"};
        render_nginx_config(c);
      },
      "allowed_ips");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.allowed_cidrs = {"all"};
        render_nginx_config(c);
      },
      "allowed_ips");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.certificate_file = "cert.pem";
        render_nginx_config(c);
      },
      "certificate_file");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.temp_dir = "/srv/tmp";
        render_nginx_config(c);
      },
      "temp_dir");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.pid_file = "/srv/x;y";
        render_nginx_config(c);
      },
      "pid_file");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.https_port = 0;
        render_nginx_config(c);
      },
      "https_port");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.http_upstreams = {};
        render_nginx_config(c);
      },
      "http_upstreams");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.native_tls_port = 19440;
        render_nginx_config(c);
      },
      "native_upstreams");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.revision = "\"; }";
        render_nginx_config(c);
      },
      "revision");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.listen_host = "example.com";
        render_nginx_config(c);
      },
      "listen_host");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.upstream_source = "127.0.0.2; proxy_pass x";
        render_nginx_config(c);
      },
      "upstream_source");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.max_fails = 0;
        render_nginx_config(c);
      },
      "max_fails");
  expect_invalid(
      [] {
        auto c = endpoint();
        c.fail_timeout_seconds = 0;
        render_nginx_config(c);
      },
      "fail_timeout_seconds");
}


// ---- The support gateway ----

NginxSupportGateway gateway() {
  NginxSupportGateway g;
  g.port = 18444;
  g.ca_file = "/srv/byoc/orders/endpoint/tls/support-ca.pem";
  g.crl_file = "/srv/byoc/orders/endpoint/tls/support-crl.pem";
  g.check_address = "127.0.0.1:17001";
  g.check_key = std::string(64, 'c');
  g.service = "orders";
  g.clickhouse_key = std::string(64, 'd');
  g.upstream_source = "127.77.0.2";
  return g;
}

NginxEndpointConfig endpoint_with_gateway() {
  NginxEndpointConfig c = endpoint();
  c.upstream_source = "127.77.0.1";
  c.support_gateway = gateway();
  return c;
}

// The gateway's server block: the second `server` of the http block.
std::string gateway_server(const std::string& conf) {
  auto first = conf.find("  server {");
  if (first == std::string::npos) return "";
  return block(conf.substr(first + 1), "  server {");
}

TEST(NginxSupportGateway, NothingOfItWithoutAGateway) {
  std::string conf = render_nginx_config(endpoint());
  EXPECT_THAT(conf, Not(HasSubstr("clickhouse_support")));
  EXPECT_THAT(conf, Not(HasSubstr("ssl_verify_client")));
  EXPECT_THAT(conf, Not(HasSubstr("byoc_support")));
  EXPECT_THAT(conf, Not(HasSubstr("support_client_credentials")));
  EXPECT_EQ(gateway_server(conf), "");
}

TEST(NginxSupportGateway, SecondServerWithClientCertificatesAndNoResumption) {
  std::string conf = render_nginx_config(endpoint_with_gateway());
  std::string endpoint_server = block(conf, "  server {");
  EXPECT_THAT(endpoint_server, HasSubstr("listen 127.0.0.1:18443 ssl;"));
  EXPECT_THAT(endpoint_server, Not(HasSubstr("ssl_verify_client")));
  std::string server = gateway_server(conf);
  ASSERT_NE(server, "");
  EXPECT_THAT(server, HasSubstr("listen 127.0.0.1:18444 ssl;"));
  EXPECT_THAT(server, HasSubstr("ssl_certificate /srv/byoc/orders/endpoint/tls/cert.pem;"));
  EXPECT_THAT(server, HasSubstr("ssl_certificate_key /srv/byoc/orders/endpoint/tls/key.pem;"));
  EXPECT_THAT(server, HasSubstr("ssl_verify_client on;"));
  EXPECT_THAT(server, HasSubstr("ssl_client_certificate /srv/byoc/orders/endpoint/tls/support-ca.pem;"));
  EXPECT_THAT(server, HasSubstr("ssl_verify_depth 1;"));
  EXPECT_THAT(server, HasSubstr("ssl_crl /srv/byoc/orders/endpoint/tls/support-crl.pem;"));
  EXPECT_THAT(server, HasSubstr("ssl_session_cache off;"));
  EXPECT_THAT(server, HasSubstr("ssl_session_tickets off;"));
  EXPECT_THAT(server, Not(HasSubstr("byoc_ssl")));
  EXPECT_THAT(server, HasSubstr("keepalive_requests 100;"));
  EXPECT_THAT(server, HasSubstr("keepalive_time 300s;"));
  EXPECT_THAT(server, HasSubstr("keepalive_timeout 30s;"));
  // No allowlist of the customer's: the certificate and the check decide.
  EXPECT_THAT(server, Not(HasSubstr("deny all;")));
}

TEST(NginxSupportGateway, OwnUpstreamPoolBoundFromItsOwnSource) {
  auto c = endpoint_with_gateway();
  c.http_upstreams = {{"127.0.0.1", 18123}, {"127.0.0.1", 18124, true}};
  std::string conf = render_nginx_config(c);
  std::string upstream = block(conf, "upstream clickhouse_support {");
  EXPECT_THAT(upstream, HasSubstr("server 127.0.0.1:18123 max_fails=1 fail_timeout=5s;"));
  EXPECT_THAT(upstream, HasSubstr("server 127.0.0.1:18124 max_fails=1 fail_timeout=5s down;"));
  EXPECT_THAT(upstream, HasSubstr("keepalive"));
  std::string server = gateway_server(conf);
  std::string root = block(server, "    location / {");
  EXPECT_THAT(root, HasSubstr("proxy_pass http://clickhouse_support;"));
  EXPECT_THAT(root, HasSubstr("proxy_bind 127.77.0.2;"));
  EXPECT_THAT(server, Not(HasSubstr("clickhouse_http")));
  EXPECT_THAT(server, Not(HasSubstr("proxy_bind 127.77.0.1;")));
  // The endpoint keeps its own pool and source.
  EXPECT_THAT(block(conf, "  server {"), Not(HasSubstr("clickhouse_support")));
}

TEST(NginxSupportGateway, EveryRequestAsksTheCheckAndGoesOutAsTheSupportUser) {
  std::string server = gateway_server(render_nginx_config(endpoint_with_gateway()));
  // No special /ping or /.byoc/revision here: one location serves everything.
  EXPECT_THAT(server, Not(HasSubstr("location = /ping")));
  EXPECT_THAT(server, Not(HasSubstr("/.byoc/revision")));
  std::string root = block(server, "    location / {");
  EXPECT_THAT(root, HasSubstr("auth_request /.byoc/support-check;"));
  EXPECT_THAT(root, HasSubstr("auth_request_set $support_serial $upstream_http_x_byoc_serial;"));
  EXPECT_THAT(root, HasSubstr("proxy_set_header Authorization \"\";"));
  EXPECT_THAT(root, HasSubstr("proxy_set_header Cookie \"\";"));
  EXPECT_THAT(root, HasSubstr("proxy_set_header Connection \"\";"));
  EXPECT_THAT(root, HasSubstr("proxy_set_header X-ClickHouse-User support;"));
  EXPECT_THAT(root, HasSubstr("proxy_set_header X-ClickHouse-Key " + std::string(64, 'd') + ";"));
  EXPECT_THAT(root, HasSubstr("proxy_set_header X-ClickHouse-Quota $support_serial;"));
  EXPECT_THAT(root, HasSubstr(
                        "proxy_set_header User-Agent \"byoc-support serial=$support_serial dn=$ssl_client_s_dn\";"));
  EXPECT_THAT(root, HasSubstr("proxy_http_version 1.1;"));
  EXPECT_THAT(root, HasSubstr("proxy_buffering off;"));
  EXPECT_THAT(root, HasSubstr("proxy_request_buffering off;"));
  EXPECT_THAT(root, HasSubstr("proxy_read_timeout 660s;"));

  std::string check = block(server, "    location = /.byoc/support-check {");
  EXPECT_THAT(check, HasSubstr("internal;"));
  EXPECT_THAT(check, HasSubstr("proxy_pass http://127.0.0.1:17001/check;"));
  EXPECT_THAT(check, HasSubstr("proxy_pass_request_headers off;"));
  EXPECT_THAT(check, HasSubstr("proxy_pass_request_body off;"));
  EXPECT_THAT(check, HasSubstr("proxy_set_header Content-Length \"\";"));
  EXPECT_THAT(check, HasSubstr("proxy_set_header X-Byoc-Check-Key " + std::string(64, 'c') + ";"));
  EXPECT_THAT(check, HasSubstr("proxy_set_header X-Byoc-Service orders;"));
  EXPECT_THAT(check, HasSubstr("proxy_set_header X-Byoc-Verify $ssl_client_verify;"));
  EXPECT_THAT(check, HasSubstr("proxy_set_header X-Byoc-Serial $ssl_client_serial;"));
  EXPECT_THAT(check, HasSubstr("proxy_set_header X-Byoc-Uri $request_uri;"));
  EXPECT_THAT(check, HasSubstr("proxy_set_header X-Byoc-Credentials $support_client_credentials;"));
  EXPECT_THAT(check, HasSubstr("proxy_connect_timeout 2s;"));
  EXPECT_THAT(check, HasSubstr("proxy_read_timeout 5s;"));
  EXPECT_THAT(check, Not(HasSubstr("proxy_bind")));

  std::string conf = render_nginx_config(endpoint_with_gateway());
  std::string map = block(conf, "  map ");
  EXPECT_THAT(map, HasSubstr(
                       "map \"$http_authorization$http_x_clickhouse_user$http_x_clickhouse_key"
                       "$http_x_clickhouse_quota\" $support_client_credentials {"));
  EXPECT_THAT(map, HasSubstr("\"\" 0;"));
  EXPECT_THAT(map, HasSubstr("default 1;"));
}

TEST(NginxSupportGateway, FailedClientCertificatesAreRefusedByTheCheck) {
  std::string server = gateway_server(render_nginx_config(endpoint_with_gateway()));
  EXPECT_THAT(server, HasSubstr("error_page 495 496 = @support_refused;"));
  std::string refused = block(server, "    location @support_refused {");
  EXPECT_THAT(refused, HasSubstr("rewrite ^ /refused? break;"));
  EXPECT_THAT(refused, HasSubstr("proxy_method GET;"));
  EXPECT_THAT(refused, HasSubstr("proxy_pass http://127.0.0.1:17001;"));
  EXPECT_THAT(refused, HasSubstr("proxy_pass_request_body off;"));
  EXPECT_THAT(refused, HasSubstr("proxy_set_header X-Byoc-Check-Key " + std::string(64, 'c') + ";"));
  EXPECT_THAT(refused, HasSubstr("proxy_set_header X-Byoc-Verify $ssl_client_verify;"));
  EXPECT_THAT(refused, Not(HasSubstr("clickhouse")));
}

TEST(NginxSupportGateway, AccessLogRecordsTheCertificateButNeverTheQueryString) {
  std::string conf = render_nginx_config(endpoint_with_gateway());
  auto begin = conf.find("log_format byoc_support ");
  ASSERT_NE(begin, std::string::npos);
  std::string format = conf.substr(begin, conf.find(';', begin) - begin);
  EXPECT_THAT(format, HasSubstr("$ssl_client_verify"));
  EXPECT_THAT(format, HasSubstr("$ssl_client_serial"));
  EXPECT_THAT(format, HasSubstr("$uri"));
  EXPECT_THAT(format, Not(HasSubstr("$request ")));
  EXPECT_THAT(format, Not(HasSubstr("$request_uri")));
  EXPECT_THAT(format, Not(HasSubstr("$args")));
  EXPECT_THAT(format, Not(HasSubstr("$query_string")));
  EXPECT_THAT(gateway_server(conf),
              HasSubstr("access_log /srv/byoc/orders/endpoint/logs/access.log byoc_support;"));
}

TEST(NginxSupportGateway, IPv6CheckAddressAndNoKeepAlive) {
  auto c = endpoint_with_gateway();
  c.support_gateway->check_address = "[::1]:17001";
  c.support_gateway->keepalive_timeout_seconds = 0;
  std::string server = gateway_server(render_nginx_config(c));
  EXPECT_THAT(server, HasSubstr("proxy_pass http://[::1]:17001/check;"));
  EXPECT_THAT(server, HasSubstr("keepalive_timeout 0s;"));
}

TEST(NginxSupportGateway, KubernetesRequestsGoToTheAgentsProxyWithoutTheClientsIdentity) {
  NginxEndpointConfig c = endpoint_with_gateway();
  EXPECT_THAT(gateway_server(render_nginx_config(c)), Not(HasSubstr("/k8s/")));  // no Kubernetes API here
  c.support_gateway->kube_proxy_address = "127.0.0.1:17002";
  c.support_gateway->kube_read_timeout_seconds = 900;
  std::string server = gateway_server(render_nginx_config(c));
  std::string k8s = block(server, "    location /k8s/ {");
  EXPECT_THAT(k8s, HasSubstr("proxy_pass http://127.0.0.1:17002/;"));  // the prefix goes
  EXPECT_THAT(k8s, HasSubstr("proxy_pass_request_headers off;"));        // Authorization, Impersonate-* stay behind
  EXPECT_THAT(k8s, HasSubstr("proxy_set_header X-Byoc-Check-Key " + std::string(64, 'c') + ";"));
  EXPECT_THAT(k8s, HasSubstr("proxy_set_header X-Byoc-Verify $ssl_client_verify;"));
  EXPECT_THAT(k8s, HasSubstr("proxy_set_header X-Byoc-Serial $ssl_client_serial;"));
  EXPECT_THAT(k8s, HasSubstr("proxy_pass_request_body off;"));
  EXPECT_THAT(k8s, HasSubstr("proxy_buffering off;"));  // watches stream
  EXPECT_THAT(k8s, HasSubstr("proxy_read_timeout 900s;"));
  EXPECT_THAT(k8s, Not(HasSubstr("X-ClickHouse")));
  EXPECT_THAT(k8s, Not(HasSubstr("auth_request")));  // the proxy decides and audits
  // The same server: client certificates, the CRL, the TLS refusals.
  EXPECT_THAT(server, HasSubstr("ssl_verify_client on;"));
  EXPECT_THAT(server, HasSubstr("error_page 495 496 = @support_refused;"));
}

TEST(NginxSupportGateway, RefusesBadGatewayInputs) {
  using Mutate = std::function<void(NginxEndpointConfig&)>;
  std::vector<std::pair<std::string, Mutate>> cases = {
      {"support_gateway.port", [](auto& c) { c.support_gateway->port = 0; }},
      {"support_gateway.port", [](auto& c) { c.support_gateway->port = c.https_port; }},
      {"support_gateway.port",
       [](auto& c) {
         c.native_tls_port = 19440;
         c.native_upstreams = {{"127.0.0.1", 19000}};
         c.support_gateway->port = 19440;
       }},
      {"support_gateway.ca_file", [](auto& c) { c.support_gateway->ca_file = "ca.pem"; }},
      {"support_gateway.crl_file", [](auto& c) { c.support_gateway->crl_file = "/srv/crl;.pem"; }},
      {"support_gateway.check_address", [](auto& c) { c.support_gateway->check_address = "127.0.0.1"; }},
      {"support_gateway.check_address", [](auto& c) { c.support_gateway->check_address = "localhost:80"; }},
      {"support_gateway.check_address", [](auto& c) { c.support_gateway->check_address = "127.0.0.1:0"; }},
      {"support_gateway.check_address", [](auto& c) { c.support_gateway->check_address = "127.0.0.1:8x"; }},
      {"support_gateway.check_address", [](auto& c) { c.support_gateway->check_address = "::1:80"; }},
      {"support_gateway.check_address",
       [](auto& c) { c.support_gateway->check_address = "127.0.0.1:80/check;"; }},
      {"support_gateway.kube_proxy_address", [](auto& c) { c.support_gateway->kube_proxy_address = "10.0.0.9"; }},
      {"support_gateway.kube_proxy_address",
       [](auto& c) { c.support_gateway->kube_proxy_address = "10.0.0.9:8082/; evil"; }},
      {"support_gateway.kube_read_timeout_seconds", [](auto& c) { c.support_gateway->kube_read_timeout_seconds = 0; }},
      {"support_gateway.check_key", [](auto& c) { c.support_gateway->check_key = "abc"; }},
      {"support_gateway.check_key", [](auto& c) { c.support_gateway->check_key = std::string(64, 'C'); }},
      {"support_gateway.service", [](auto& c) { c.support_gateway->service = "a b"; }},
      {"support_gateway.service", [](auto& c) { c.support_gateway->service = ""; }},
      {"support_gateway.clickhouse_user", [](auto& c) { c.support_gateway->clickhouse_user = "x;y"; }},
      {"support_gateway.clickhouse_key", [](auto& c) { c.support_gateway->clickhouse_key = "\"k\""; }},
      {"support_gateway.upstream_source", [](auto& c) { c.support_gateway->upstream_source = ""; }},
      {"support_gateway.upstream_source",
       [](auto& c) { c.support_gateway->upstream_source = "127.77.0.0/24"; }},
      // Not the endpoint's source, nor 127.0.0.1 when the endpoint has none.
      {"support_gateway.upstream_source",
       [](auto& c) { c.support_gateway->upstream_source = c.upstream_source; }},
      {"support_gateway.upstream_source",
       [](auto& c) {
         c.upstream_source.clear();
         c.support_gateway->upstream_source = "127.0.0.1";
       }},
      {"support_gateway.keepalive_requests", [](auto& c) { c.support_gateway->keepalive_requests = 0; }},
      {"support_gateway.keepalive_time_seconds",
       [](auto& c) { c.support_gateway->keepalive_time_seconds = 0; }},
      {"support_gateway.keepalive_timeout_seconds",
       [](auto& c) { c.support_gateway->keepalive_timeout_seconds = -1; }},
  };
  for (const auto& [field, mutate] : cases) {
    expect_invalid(
        [&] {
          auto c = endpoint_with_gateway();
          mutate(c);
          render_nginx_config(c);
        },
        field);
  }
  EXPECT_NO_THROW(render_nginx_config(endpoint_with_gateway()));
}

}  // namespace
}  // namespace byoc::render
