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

}  // namespace
}  // namespace byoc::render
