// The support gateway's rendered files on the real binaries: ClickHouse
// 18.16 running the rendered config.xml/users.xml (the support user:
// readonly, system only, logged with its quota key and user agent, from its
// source only, keyed quota), and nginx running the rendered endpoint config
// with the gateway in front of it, a small loopback responder standing in for
// the agent's gateway check.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "render/clickhouse_config.h"
#include "render/nginx_config.h"
#include "testing/testing.h"

namespace byoc::render {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kClickHouseBinary = "/usr/sbin/clickhouse-server";
const fs::path kNginxBinary = "/usr/sbin/nginx";
const std::string kDefaultPassword = "default-password";
// Where the gateway connects to ClickHouse from (the support user's only
// network), where the endpoint does, and a stranger.
const std::string kGatewaySource = "127.77.0.2";
const std::string kEndpointSource = "127.77.0.1";
const std::string kOtherSource = "127.77.0.3";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

http::Response send(const http::Request& request, const http::TlsOptions& tls = {}) {
  http::Client client(tls);
  try {
    return client.send(request);
  } catch (const Error& e) {
    http::Response failed;
    failed.body = e.what();
    return failed;
  }
}

// ---- A stand-in for the agent's gateway check ----

struct SeenRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct Reply {
  int status = 204;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// HTTP/1.1 on 127.0.0.1, one request per connection; records what it is
// asked and answers with `policy` (by default the agent's rules: the right
// key and a verified certificate are admitted with the serial, in lowercase,
// as X-Byoc-Serial; anything else gets a 403 JSON body naming the verdict).
class FakeCheck {
 public:
  explicit FakeCheck(std::string key) : key_(std::move(key)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0)
      throw Error::Internal("fake check: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    policy_ = [this](const SeenRequest& r) { return default_reply(r); };
    thread_ = std::thread([this] { run(); });
  }
  ~FakeCheck() { stop(); }

  void stop() {
    if (stopping_.exchange(true)) return;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void set_policy(std::function<Reply(const SeenRequest&)> policy) {
    std::lock_guard lock(mutex_);
    policy_ = std::move(policy);
  }
  std::vector<SeenRequest> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    seen_.clear();
  }

  Reply default_reply(const SeenRequest& r) const {
    if (r.path == "/check" && r.header("x-byoc-check-key") == key_ && r.header("x-byoc-verify") == "SUCCESS")
      return Reply{204, {{"X-Byoc-Serial", lower(r.header("x-byoc-serial"))}}, ""};
    return Reply{403,
                 {{"Content-Type", "application/json"}},
                 "{\"error\":\"support_refused\",\"verify\":\"" + r.header("x-byoc-verify") + "\"}"};
  }

 private:
  void run() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      serve(conn);
      ::close(conn);
    }
  }

  void serve(int conn) {
    timeval timeout{2, 0};
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string data;
    char buf[4096];
    while (data.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
    }
    SeenRequest r;
    std::string head = data.substr(0, data.find("\r\n\r\n"));
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    r.method = request_line.substr(0, request_line.find(' '));
    size_t path_begin = request_line.find(' ') + 1;
    r.path = request_line.substr(path_begin, request_line.find(' ', path_begin) - path_begin);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[lower(line.substr(0, colon))] = value;
      }
      pos = end + 2;
    }
    Reply reply;
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(r);
      reply = policy_(r);
    }
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
    for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n" + reply.body;
    ::send(conn, out.data(), out.size(), MSG_NOSIGNAL);
  }

  std::string key_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::function<Reply(const SeenRequest&)> policy_;
  std::vector<SeenRequest> seen_;
};

// ---- The stack: ClickHouse, then (optionally) the check and nginx ----

class SupportStack : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kClickHouseBinary) || !fs::exists(kNginxBinary))
      GTEST_SKIP() << "needs " << kClickHouseBinary << " and " << kNginxBinary;
    support_key_ = crypto::hex(crypto::random_bytes(32));
    check_key_ = crypto::hex(crypto::random_bytes(32));
    auto now = std::chrono::system_clock::now();
    environment_ca_ = crypto::make_ca({.common_name = "environment", .not_before = now - 1h, .not_after = now + 48h});
    support_ca_ = crypto::make_ca({.common_name = "support", .not_before = now - 1h, .not_after = now + 48h});
  }

  void TearDown() override {
    // nginx first: its keep-alive connections would hold ClickHouse's exit.
    if (nginx_pid_) proc::terminate(*nginx_pid_, 10s);
    if (check_) check_->stop();
    if (clickhouse_pid_) proc::terminate(*clickhouse_pid_, 30s);
  }

  void start_clickhouse(const ClickHouseSupportUser& support) {
    fs::path dir = dir_.path() / "clickhouse";
    for (const char* sub : {"data/tmp", "data/user_files", "data/format_schemas", "logs"})
      files::ensure_dir(dir / sub, 0700);
    http_port_ = proc::pick_free_port();
    int tcp_port = proc::pick_free_port();
    int interserver_port = proc::pick_free_port();
    ClickHouseServerConfig c;
    c.cluster_name = "orders";
    c.replica_name = "s1r1";
    c.http_port = http_port_;
    c.tcp_port = tcp_port;
    c.interserver_http_port = interserver_port;
    c.data_path = (dir / "data").string() + "/";
    c.tmp_path = (dir / "data/tmp").string() + "/";
    c.user_files_path = (dir / "data/user_files").string() + "/";
    c.format_schema_path = (dir / "data/format_schemas").string() + "/";
    c.log_file = (dir / "logs/clickhouse-server.log").string();
    c.error_log_file = (dir / "logs/clickhouse-server.err.log").string();
    c.users_config_file = (dir / "users.xml").string();
    c.cluster = {ClickHouseClusterShard{{ClickHouseClusterReplica{"127.0.0.1", tcp_port}}}};
    c.sizing = clickhouse_sizing(1000, 1024);
    ClickHouseUsersConfig u;
    std::vector<std::string> default_networks = loopback_networks();
    default_networks.push_back(kEndpointSource);
    u.users = {ClickHouseUser{"default", crypto::sha256_hex(kDefaultPassword), default_networks}};
    u.sizing = c.sizing;
    u.support = support;
    files::write_atomic(dir / "config.xml", render_clickhouse_config(c), 0600);
    files::write_atomic(dir / "users.xml", render_clickhouse_users(u), 0600);
    proc::SpawnOptions spawn;
    spawn.argv = {kClickHouseBinary.string(), "--config-file=" + (dir / "config.xml").string()};
    spawn.cwd = dir;
    spawn.output = dir / "logs/stdout.log";
    clickhouse_pid_ = proc::spawn(spawn);
    bool up = testing::eventually(
        [&] {
          http::Request ping;
          ping.url = "http://127.0.0.1:" + std::to_string(http_port_) + "/ping";
          ping.timeout = 2s;
          return send(ping).body == "Ok.\n";
        },
        30s);
    ASSERT_TRUE(up) << files::read_if_exists(dir / "logs/clickhouse-server.err.log").value_or("");
  }

  ClickHouseSupportUser support_user() const {
    ClickHouseSupportUser s;
    s.password_sha256_hex = crypto::sha256_hex(support_key_);
    s.networks = {kGatewaySource};
    return s;
  }

  http::Response as_default(const std::string& sql) const {
    http::Request r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(http_port_) + "/";
    r.body = sql;
    r.headers = {{"X-ClickHouse-User", "default"}, {"X-ClickHouse-Key", kDefaultPassword}};
    return send(r);
  }

  // What the gateway sends ClickHouse, straight from the gateway's source.
  http::Response as_support(const std::string& sql, const std::string& query_string = "",
                            const std::string& quota_key = "0a1b2c", const std::string& source = kGatewaySource,
                            const std::string& key = "") const {
    http::Request r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(http_port_) + "/" + query_string;
    r.body = sql;
    r.source_address = source;
    r.headers = {{"X-ClickHouse-User", "support"},
                 {"X-ClickHouse-Key", key.empty() ? support_key_ : key},
                 {"X-ClickHouse-Quota", quota_key},
                 {"User-Agent", "byoc-support serial=" + quota_key + " dn=CN=alice"}};
    return send(r);
  }

  // 18.16's SYSTEM FLUSH LOGS writes what the log thread has already taken
  // from its queue: an entry still queued lands with a later flush. So flush
  // and read again until `ready` holds, for at most 20 s; the last read is
  // returned either way, for the test's assertions to judge.
  http::Response read_flushed_log(const std::function<http::Response()>& read,
                                  const std::function<bool(const http::Response&)>& ready) {
    http::Response last;
    proc::wait_for(20s, [&] {
      EXPECT_EQ(as_default("SYSTEM FLUSH LOGS").status, 200);
      last = read();
      return ready(last);
    });
    return last;
  }

  static int count_of(const http::Response& r) {
    return r.status == 200 && !r.body.empty() && std::isdigit(static_cast<unsigned char>(r.body[0]))
               ? std::stoi(r.body)
               : 0;
  }

  // --- nginx with the gateway ---

  void write_pem(const std::string& name, const std::string& pem) {
    files::write_atomic(dir_.path() / "nginx" / name, pem, 0600);
  }

  void start_nginx(const std::vector<std::string>& revoked_serials = {}) {
    fs::path dir = dir_.path() / "nginx";
    files::ensure_dir(dir / "tmp", 0700);
    files::ensure_dir(dir / "logs", 0700);
    auto now = std::chrono::system_clock::now();
    crypto::CertificateSpec spec;
    spec.common_name = "127.0.0.1";
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    spec.not_before = now - 1h;
    spec.not_after = now + 24h;
    crypto::KeyedCertificate server = crypto::issue(environment_ca_, spec);
    write_pem("server.pem", server.cert_pem);
    write_pem("server.key", server.key_pem);
    write_pem("support-ca.pem", support_ca_.cert_pem);
    write_pem("support-crl.pem", crypto::make_crl(support_ca_, revoked_serials, now - 1h, now + 24h));
    check_.emplace(check_key_);
    https_port_ = proc::pick_free_port();
    gateway_port_ = proc::pick_free_port();
    NginxEndpointConfig c;
    c.pid_file = (dir / "nginx.pid").string();
    c.error_log_file = (dir / "logs/error.log").string();
    c.access_log_file = (dir / "logs/access.log").string();
    c.temp_dir = (dir / "tmp").string() + "/";
    c.certificate_file = (dir / "server.pem").string();
    c.certificate_key_file = (dir / "server.key").string();
    c.https_port = https_port_;
    c.http_upstreams = {{"127.0.0.1", http_port_}};
    c.upstream_source = kEndpointSource;
    c.revision = "r1";
    NginxSupportGateway g;
    g.port = gateway_port_;
    g.ca_file = (dir / "support-ca.pem").string();
    g.crl_file = (dir / "support-crl.pem").string();
    g.check_address = check_->address();
    g.check_key = check_key_;
    g.service = "orders";
    g.clickhouse_key = support_key_;
    g.upstream_source = kGatewaySource;
    c.support_gateway = g;
    nginx_conf_ = dir / "nginx.conf";
    files::write_atomic(nginx_conf_, render_nginx_config(c), 0600);
    ASSERT_EQ(nginx_test(), 0) << files::read_if_exists(dir / "logs/nginx-t.log").value_or("");
    proc::SpawnOptions spawn;
    spawn.argv = {kNginxBinary.string(), "-p", dir.string() + "/", "-c", nginx_conf_.string(),
                  "-e", (dir / "logs/error.log").string()};
    spawn.cwd = dir;
    spawn.output = dir / "logs/stdout.log";
    nginx_pid_ = proc::spawn(spawn);
    bool up = testing::eventually(
        [&] { return proc::port_accepts("127.0.0.1", gateway_port_) && proc::port_accepts("127.0.0.1", https_port_); },
        15s);
    ASSERT_TRUE(up) << files::read_if_exists(dir / "logs/error.log").value_or("");
  }

  // `nginx -t` on the rendered file: its exit code.
  int nginx_test() {
    fs::path dir = dir_.path() / "nginx";
    proc::SpawnOptions spawn;
    spawn.argv = {kNginxBinary.string(), "-t", "-p", dir.string() + "/", "-c", nginx_conf_.string(),
                  "-e", (dir / "logs/error.log").string()};
    spawn.output = dir / "logs/nginx-t.log";
    pid_t pid = proc::spawn(spawn);
    std::optional<int> code;
    if (!proc::wait_for(15s, [&] { return (code = proc::try_reap(pid)).has_value(); })) {
      proc::terminate(pid, 1s);
      return -1;
    }
    return *code;
  }

  crypto::KeyedCertificate client_certificate(const crypto::KeyedCertificate& ca, bool expired = false) const {
    auto now = std::chrono::system_clock::now();
    crypto::CertificateSpec spec;
    spec.common_name = "alice";
    spec.organization = "env-1";
    spec.organizational_unit = "grant-1";
    spec.client_auth = true;
    spec.not_before = expired ? now - 3h : now - 1min;
    spec.not_after = expired ? now - 2h : now + 1h;
    return crypto::issue(ca, spec);
  }

  // A request to the gateway with `client` (none if empty).
  http::Response via_gateway(const std::string& path, const std::string& sql,
                             const std::optional<crypto::KeyedCertificate>& client,
                             std::vector<std::pair<std::string, std::string>> headers = {}) const {
    http::TlsOptions tls;
    tls.ca_pem = environment_ca_.cert_pem;
    if (client) {
      tls.client_cert_pem = client->cert_pem;
      tls.client_key_pem = client->key_pem;
    }
    http::Request r;
    r.method = sql.empty() ? "GET" : "POST";
    r.url = "https://127.0.0.1:" + std::to_string(gateway_port_) + path;
    r.body = sql;
    r.headers = std::move(headers);
    return send(r, tls);
  }

  // Two TLS connections with `openssl s_client`, the second offering the
  // first one's session: true if the server resumed it.
  bool resumed(int port, const std::optional<crypto::KeyedCertificate>& client, const std::string& version) {
    fs::path dir = dir_.path() / "s_client";
    files::ensure_dir(dir, 0700);
    files::write_atomic(dir / "ca.pem", environment_ca_.cert_pem, 0600);
    std::string command = "printf 'GET /ping HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
                          "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " " + version +
                          " -CAfile " + (dir / "ca.pem").string() + " -ign_eof";
    if (client) {
      files::write_atomic(dir / "client.pem", client->cert_pem, 0600);
      files::write_atomic(dir / "client.key", client->key_pem, 0600);
      command += " -cert " + (dir / "client.pem").string() + " -key " + (dir / "client.key").string();
    }
    fs::remove(dir / "session.pem");
    std::string output;
    for (const char* session : {" -sess_out ", " -sess_in "}) {
      fs::remove(dir / "out.txt");
      proc::SpawnOptions spawn;
      spawn.argv = {"/bin/sh", "-c", command + session + (dir / "session.pem").string()};
      spawn.output = dir / "out.txt";
      pid_t pid = proc::spawn(spawn);
      std::optional<int> code;
      if (!proc::wait_for(20s, [&] { return (code = proc::try_reap(pid)).has_value(); })) {
        proc::terminate(pid, 1s);
        ADD_FAILURE() << "openssl s_client did not finish";
        return false;
      }
      output = files::read_if_exists(dir / "out.txt").value_or("");
      EXPECT_THAT(output, HasSubstr("HTTP/1.1 200")) << output;
      // No session to offer (TLS 1.2 without a session id or ticket).
      if (!fs::exists(dir / "session.pem")) return false;
    }
    EXPECT_TRUE(output.find("\nReused, ") != std::string::npos || output.find("\nNew, ") != std::string::npos)
        << output;
    return output.find("\nReused, ") != std::string::npos;
  }

  testing::TempDir dir_{"byoc-support-gateway"};
  std::string support_key_;
  std::string check_key_;
  crypto::KeyedCertificate environment_ca_;
  crypto::KeyedCertificate support_ca_;
  int http_port_ = 0;
  int https_port_ = 0;
  int gateway_port_ = 0;
  fs::path nginx_conf_;
  std::optional<pid_t> clickhouse_pid_;
  std::optional<pid_t> nginx_pid_;
  std::optional<FakeCheck> check_;
};

// ---- The support user on ClickHouse 18.16 ----

using SupportUserOnClickHouse = SupportStack;

TEST_F(SupportUserOnClickHouse, ReadsTheSystemDatabaseOnly) {
  start_clickhouse(support_user());
  ASSERT_EQ(as_default("CREATE TABLE default.t (x UInt8) ENGINE = Memory").status, 200);
  ASSERT_EQ(as_default("INSERT INTO default.t VALUES (1)").status, 200);
  // system.query_log appears with the first flush that has something to write.
  ASSERT_EQ(as_support("SELECT 1").status, 200);
  auto count = read_flushed_log([&] { return as_support("SELECT count() FROM system.query_log"); },
                                [](const http::Response& r) { return count_of(r) >= 1; });
  EXPECT_EQ(count.status, 200) << count.body;
  EXPECT_GE(count_of(count), 1) << count.body;
  EXPECT_EQ(as_support("SELECT count() FROM system.tables").status, 200);

  auto denied = as_support("SELECT * FROM default.t");
  EXPECT_NE(denied.status, 200);
  EXPECT_THAT(denied.body, HasSubstr("Code: 291"));  // DATABASE_ACCESS_DENIED
  EXPECT_THAT(as_support("SELECT 1", "?database=default").body, HasSubstr("Code: 291"));
  EXPECT_THAT(as_support("SHOW CREATE TABLE default.t").body, HasSubstr("Code: 291"));
  EXPECT_THAT(as_support("DESCRIBE TABLE default.t").body, HasSubstr("Code: 291"));
  // 18.16's system.tables/columns/parts/databases leave out what the user may
  // not access: not even the customer's table names show.
  auto tables = as_support("SHOW TABLES FROM default");
  EXPECT_EQ(tables.status, 200);
  EXPECT_EQ(tables.body, "");
  EXPECT_EQ(as_support("SELECT name FROM system.tables WHERE database = 'default'").body, "");
  EXPECT_EQ(as_support("SELECT name FROM system.columns WHERE database = 'default'").body, "");
  EXPECT_EQ(as_support("SELECT name FROM system.databases").body, "system\n");
  EXPECT_EQ(as_default("SELECT name FROM system.tables WHERE database = 'default'").body, "t\n");
}

TEST_F(SupportUserOnClickHouse, CannotChangeSettingsOrWriteAnything) {
  start_clickhouse(support_user());
  ASSERT_EQ(as_default("CREATE TABLE default.t (x UInt8) ENGINE = Memory").status, 200);
  struct Case {
    std::string query_string;
    std::string sql;
    std::string says;
  };
  std::vector<Case> cases = {
      {"?readonly=0", "SELECT 1", "Cannot override setting (readonly) in readonly mode"},
      {"?log_queries=0", "SELECT 1", "Cannot override setting (log_queries) in readonly mode"},
      {"?max_execution_time=100000", "SELECT 1", "Cannot override setting (max_execution_time) in readonly mode"},
      {"?max_result_rows=0", "SELECT 1", "Cannot override setting (max_result_rows) in readonly mode"},
      {"", "SET log_queries = 0", "Cannot execute SET query in readonly mode"},
      {"", "INSERT INTO default.t VALUES (2)", "Cannot insert into table in readonly mode"},
      {"", "CREATE TABLE system.x (x UInt8) ENGINE = Memory", "Cannot create table in readonly mode"},
      {"", "CREATE DATABASE x", "Cannot create database in readonly mode"},
      {"", "DROP TABLE default.t", "Code: 164"},
      {"", "SYSTEM FLUSH LOGS", "Code: 164"},
  };
  for (const auto& c : cases) {
    auto r = as_support(c.sql, c.query_string);
    EXPECT_NE(r.status, 200) << c.query_string << " " << c.sql;
    EXPECT_THAT(r.body, HasSubstr("Code: 164")) << c.query_string << " " << c.sql;  // READONLY
    EXPECT_THAT(r.body, HasSubstr(c.says)) << c.query_string << " " << c.sql;
  }
  // Table functions reach past allow_databases: refused in readonly mode.
  auto remote = as_support("SELECT * FROM remote('127.0.0.1:9000', default.t)");
  EXPECT_NE(remote.status, 200);
  EXPECT_THAT(remote.body, HasSubstr("Code: 164"));
  EXPECT_THAT(remote.body, HasSubstr("Table functions are forbidden in readonly mode"));
  // Results beyond max_result_rows are an error, not a truncated answer.
  auto big = as_support("SELECT number FROM system.numbers LIMIT 100001");
  EXPECT_NE(big.status, 200);
  EXPECT_THAT(big.body, HasSubstr("Code: 396"));  // TOO_MANY_ROWS_OR_BYTES
  EXPECT_THAT(big.body, HasSubstr("Limit for result exceeded, max rows: 100.00 thousand"));
  EXPECT_EQ(as_support("SELECT number FROM system.numbers LIMIT 100000").status, 200);
  EXPECT_EQ(as_default("SELECT count() FROM default.t").body, "0\n");
}

TEST_F(SupportUserOnClickHouse, QueriesAreLoggedWithTheQuotaKeyAndUserAgent) {
  start_clickhouse(support_user());
  ASSERT_EQ(as_default("SELECT 'default_marker_7'").status, 200);
  ASSERT_EQ(as_support("SELECT 'support_marker_7'", "", "4f00aa").status, 200);
  auto refused = as_support("SELECT 'support_marker_8' FROM default.t", "", "4f00aa");
  EXPECT_NE(refused.status, 200);
  // Both markers' entries (start, finish, refusal) are in before reading.
  read_flushed_log(
      [&] {
        return as_default(
            "SELECT count() FROM system.query_log WHERE (query LIKE '%support_marker_7%' OR query LIKE "
            "'%support_marker_8%') AND query NOT LIKE '%query_log%'");
      },
      [](const http::Response& r) { return count_of(r) >= 3; });
  auto rows = as_default(
      "SELECT type, user, quota_key, http_user_agent, IPv6NumToString(address) FROM system.query_log "
      "WHERE query LIKE '%support_marker_7%' AND query NOT LIKE '%query_log%' ORDER BY type FORMAT TSV");
  ASSERT_EQ(rows.status, 200) << rows.body;
  // QueryStart (1) then QueryFinish (2).
  EXPECT_EQ(rows.body,
            "1\tsupport\t4f00aa\tbyoc-support serial=4f00aa dn=CN=alice\t::ffff:127.77.0.2\n"
            "2\tsupport\t4f00aa\tbyoc-support serial=4f00aa dn=CN=alice\t::ffff:127.77.0.2\n");
  // A refused query is logged too (ExceptionBeforeStart, 3).
  auto failed = as_default(
      "SELECT type, user, quota_key FROM system.query_log WHERE query LIKE '%support_marker_8%' "
      "AND query NOT LIKE '%query_log%' FORMAT TSV");
  EXPECT_EQ(failed.body, "3\tsupport\t4f00aa\n");
  // The default profile logs nothing.
  auto by_default = as_default("SELECT count() FROM system.query_log WHERE user = 'default' FORMAT TSV");
  EXPECT_EQ(by_default.body, "0\n");
}

TEST_F(SupportUserOnClickHouse, OnlyFromTheGatewaySourceAndWithItsKey) {
  start_clickhouse(support_user());
  EXPECT_EQ(as_support("SELECT 1").status, 200);
  auto stranger = as_support("SELECT 1", "", "0a1b2c", kOtherSource);
  EXPECT_NE(stranger.status, 200);
  EXPECT_THAT(stranger.body, HasSubstr("Code: 195"));  // IP_ADDRESS_NOT_ALLOWED
  auto endpoint = as_support("SELECT 1", "", "0a1b2c", kEndpointSource);
  EXPECT_THAT(endpoint.body, HasSubstr("Code: 195"));
  auto wrong = as_support("SELECT 1", "", "0a1b2c", kGatewaySource, std::string(64, '0'));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.body, HasSubstr("Code: 193"));  // WRONG_PASSWORD
  // The client's own credentials alongside the gateway's headers: refused.
  auto mixed = as_support("SELECT 1", "?user=default&password=" + kDefaultPassword);
  EXPECT_EQ(mixed.status, 401);
  EXPECT_THAT(mixed.body, HasSubstr("Code: 194"));
  auto encoded = as_support("SELECT 1", "?us%65r=default");
  EXPECT_THAT(encoded.body, HasSubstr("Code: 194"));
  auto quota_param = as_support("SELECT 1", "?quota_key=other");
  EXPECT_THAT(quota_param.body, HasSubstr("Code: 194"));
}

TEST_F(SupportUserOnClickHouse, TheQuotaCountsEachKeyOnItsOwn) {
  ClickHouseSupportUser s = support_user();
  s.quota_queries = 3;
  start_clickhouse(s);
  // 18.16 refuses once the count already exceeds the limit: `queries = 3`
  // lets a fourth one through and refuses from the fifth on ("Queries: 4").
  for (int i = 0; i < 4; ++i) EXPECT_EQ(as_support("SELECT 1", "", "aaaa01").status, 200) << i;
  auto over = as_support("SELECT 1", "", "aaaa01");
  EXPECT_NE(over.status, 200);
  EXPECT_THAT(over.body, HasSubstr("Code: 201"));  // QUOTA_EXPIRED
  EXPECT_THAT(over.body, HasSubstr("Quota for user 'support' for 1 hour has been exceeded. Queries: 4, max: 3."));
  EXPECT_EQ(as_support("SELECT 1", "", "bbbb02").status, 200);
  // The default quota takes no client key.
  http::Request r;
  r.method = "POST";
  r.url = "http://127.0.0.1:" + std::to_string(http_port_) + "/";
  r.body = "SELECT 1";
  r.headers = {{"X-ClickHouse-User", "default"}, {"X-ClickHouse-Key", kDefaultPassword}, {"X-ClickHouse-Quota", "k"}};
  EXPECT_THAT(send(r).body, HasSubstr("Code: 200"));  // QUOTA_DOESNT_ALLOW_KEYS
}

// ---- The gateway on nginx 1.22 ----

using SupportGatewayOnNginx = SupportStack;

TEST_F(SupportGatewayOnNginx, AdmittedRequestsReachClickHouseAsTheSupportUser) {
  start_clickhouse(support_user());
  start_nginx();
  auto alice = client_certificate(support_ca_);
  std::string serial = crypto::inspect(alice.cert_pem).serial_hex;
  ASSERT_EQ(as_default("CREATE TABLE default.t (x UInt8) ENGINE = Memory").status, 200);

  auto r = via_gateway("/?query=SELECT%20%27gw_marker_1%27", "", alice);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "gw_marker_1\n");
  auto seen = check_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/check");
  EXPECT_EQ(seen[0].header("x-byoc-check-key"), check_key_);
  EXPECT_EQ(seen[0].header("x-byoc-service"), "orders");
  EXPECT_EQ(seen[0].header("x-byoc-verify"), "SUCCESS");
  // nginx gives the serial in upper case; crypto::inspect in lower case.
  EXPECT_EQ(lower(seen[0].header("x-byoc-serial")), serial);
  EXPECT_EQ(seen[0].header("x-byoc-uri"), "/?query=SELECT%20%27gw_marker_1%27");
  EXPECT_EQ(seen[0].header("x-byoc-credentials"), "0");
  EXPECT_EQ(seen[0].header("content-length"), "");

  // Whatever the client claims, ClickHouse sees the support user: the
  // client's credentials never reach it (mixed with the gateway's headers
  // ClickHouse would answer 401), and the check is told they were sent.
  check_->clear();
  auto claimed = via_gateway("/", "SELECT 'gw_marker_2'", alice,
                             {{"Authorization", "Basic ZGVmYXVsdDpkZWZhdWx0LXBhc3N3b3Jk"},
                              {"X-ClickHouse-User", "default"},
                              {"X-ClickHouse-Key", kDefaultPassword},
                              {"X-ClickHouse-Quota", "mine"},
                              {"X-Byoc-Serial", "forged"},
                              {"User-Agent", "forged-agent"}});
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  seen = check_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].header("x-byoc-credentials"), "1");
  EXPECT_EQ(seen[0].header("authorization"), "");  // nothing of the client's but what is named
  EXPECT_EQ(seen[0].header("user-agent"), "");
  EXPECT_EQ(lower(seen[0].header("x-byoc-serial")), serial);
  EXPECT_THAT(via_gateway("/", "SELECT * FROM default.t", alice).body, HasSubstr("Code: 291"));
  EXPECT_THAT(via_gateway("/?readonly=0", "SELECT 1", alice).body, HasSubstr("Code: 164"));

  // Two queries carried a marker: both starts and finishes are in before reading.
  read_flushed_log(
      [&] {
        return as_default("SELECT count() FROM system.query_log WHERE query LIKE '%gw_marker_%' AND "
                          "query NOT LIKE '%query_log%'");
      },
      [](const http::Response& r) { return count_of(r) >= 4; });
  auto rows = as_default(
      "SELECT DISTINCT user, quota_key, http_user_agent, IPv6NumToString(address) FROM system.query_log "
      "WHERE query LIKE '%gw_marker_%' AND query NOT LIKE '%query_log%' FORMAT TSV");
  ASSERT_EQ(rows.status, 200) << rows.body;
  EXPECT_EQ(rows.body, "support\t" + serial + "\tbyoc-support serial=" + serial +
                           " dn=CN=alice,OU=grant-1,O=env-1\t::ffff:127.77.0.2\n");

  // The access log names the certificate, never the query string.
  auto log = files::read(dir_.path() / "nginx/logs/access.log");
  EXPECT_THAT(log, HasSubstr("SUCCESS " + [&] {
                std::string up = serial;
                std::transform(up.begin(), up.end(), up.begin(), ::toupper);
                return up;
              }()));
  EXPECT_THAT(log, Not(HasSubstr("gw_marker")));
}

TEST_F(SupportGatewayOnNginx, FailedCertificatesGetTheChecksRefusal) {
  start_clickhouse(support_user());
  auto revoked = client_certificate(support_ca_);
  start_nginx({crypto::inspect(revoked.cert_pem).serial_hex});
  auto now = std::chrono::system_clock::now();
  auto other_ca = crypto::make_ca({.common_name = "support", .not_before = now - 1h, .not_after = now + 48h});
  struct Case {
    std::string name;
    std::optional<crypto::KeyedCertificate> client;
    std::string verify;
  };
  std::vector<Case> cases = {
      {"none", std::nullopt, "NONE"},
      {"expired", client_certificate(support_ca_, true), "FAILED:certificate has expired"},
      {"another CA", client_certificate(other_ca), "FAILED:unable to verify the first certificate"},
      {"revoked", revoked, "FAILED:certificate revoked"},
  };
  for (const auto& c : cases) {
    check_->clear();
    auto r = via_gateway("/?query=SELECT%201&password=secret", "", c.client);
    EXPECT_EQ(r.status, 403) << c.name;
    EXPECT_EQ(r.body, "{\"error\":\"support_refused\",\"verify\":\"" + c.verify + "\"}") << c.name;
    EXPECT_THAT(r.header("content-type"), StartsWith("application/json")) << c.name;
    auto seen = check_->seen();
    ASSERT_EQ(seen.size(), 1u) << c.name;
    EXPECT_EQ(seen[0].method, "GET") << c.name;
    EXPECT_EQ(seen[0].path, "/refused") << c.name;  // no client arguments carried along
    EXPECT_EQ(seen[0].header("x-byoc-check-key"), check_key_) << c.name;
    EXPECT_EQ(seen[0].header("x-byoc-service"), "orders") << c.name;
    EXPECT_EQ(seen[0].header("x-byoc-verify"), c.verify) << c.name;
    EXPECT_EQ(seen[0].header("x-byoc-uri"), "/?query=SELECT%201&password=secret") << c.name;
    if (c.client) {
      EXPECT_EQ(lower(seen[0].header("x-byoc-serial")), crypto::inspect(c.client->cert_pem).serial_hex) << c.name;
    }
  }
  // A POST with a body is refused the same way; the body goes nowhere.
  check_->clear();
  auto post = via_gateway("/", "SELECT 1", std::nullopt);
  EXPECT_EQ(post.status, 403);
  ASSERT_EQ(check_->seen().size(), 1u);
  EXPECT_EQ(check_->seen()[0].method, "GET");
  EXPECT_EQ(check_->seen()[0].header("content-length"), "");
}

TEST_F(SupportGatewayOnNginx, TheCheckDecidesEveryRequestAndFailureIsClosed) {
  start_clickhouse(support_user());
  start_nginx();
  auto alice = client_certificate(support_ca_);
  // /ping and /.byoc/revision are nothing special here: the check is asked.
  auto ping = via_gateway("/ping", "", alice);
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "Ok.\n");
  auto revision = via_gateway("/.byoc/revision", "", alice);
  EXPECT_NE(revision.body, "r1");
  ASSERT_EQ(check_->seen().size(), 2u);
  EXPECT_EQ(check_->seen()[0].header("x-byoc-uri"), "/ping");
  EXPECT_EQ(check_->seen()[1].header("x-byoc-uri"), "/.byoc/revision");
  // The check's location is not reachable from outside.
  EXPECT_EQ(via_gateway("/.byoc/support-check", "", alice).status, 404);

  auto answer = [&](int status) {
    check_->set_policy([status](const SeenRequest&) { return Reply{status, {}, "no"}; });
    return via_gateway("/", "SELECT 1", alice).status;
  };
  EXPECT_EQ(answer(403), 403);
  EXPECT_EQ(answer(401), 401);
  // Anything else is the check failing: nginx's 500, answered as 503 check_unavailable.
  EXPECT_EQ(answer(500), 503);
  EXPECT_EQ(answer(404), 503);
  EXPECT_EQ(answer(302), 503);
  // A refusal keeps its reason: the check's header becomes the JSON body nginx gives.
  check_->set_policy([](const SeenRequest&) { return Reply{403, {{"X-Byoc-Refusal", "grant_inactive"}}, "no"}; });
  auto refused = via_gateway("/", "SELECT 1", alice);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(nlohmann::json::parse(refused.body, nullptr, false)["error"]["code"], "grant_inactive") << refused.body;
  check_->set_policy([this](const SeenRequest& r) { return check_->default_reply(r); });
  EXPECT_EQ(via_gateway("/", "SELECT 1", alice).status, 200);
  // No check, no access.
  check_->stop();
  auto unanswered = via_gateway("/", "SELECT 1", alice);
  EXPECT_EQ(unanswered.status, 503);
  EXPECT_EQ(nlohmann::json::parse(unanswered.body, nullptr, false)["error"]["code"], "check_unavailable")
      << unanswered.body;
}

TEST_F(SupportGatewayOnNginx, EveryConnectionVerifiesTheCertificateAnew) {
  if (!fs::exists("/usr/bin/openssl")) GTEST_SKIP() << "needs /usr/bin/openssl";
  start_clickhouse(support_user());
  start_nginx();
  auto alice = client_certificate(support_ca_);
  // The endpoint resumes sessions (the method detects resumption)...
  EXPECT_TRUE(resumed(https_port_, std::nullopt, "-tls1_2"));
  // ...the gateway never does: no session cache, no tickets.
  EXPECT_FALSE(resumed(gateway_port_, alice, "-tls1_2"));
  EXPECT_FALSE(resumed(gateway_port_, alice, "-tls1_3"));
}

TEST_F(SupportGatewayOnNginx, TheEndpointKeepsItsOwnUsersAndSource) {
  start_clickhouse(support_user());
  start_nginx();
  // The endpoint (no client certificate) still serves `default`...
  http::TlsOptions tls;
  tls.ca_pem = environment_ca_.cert_pem;
  http::Request r;
  r.method = "POST";
  r.url = "https://127.0.0.1:" + std::to_string(https_port_) + "/";
  r.body = "SELECT 1";
  r.headers = {{"X-ClickHouse-User", "default"}, {"X-ClickHouse-Key", kDefaultPassword}};
  auto response = send(r, tls);
  EXPECT_EQ(response.status, 200) << response.body;
  // ...but the support user's key is useless there: wrong source.
  r.headers = {{"X-ClickHouse-User", "support"}, {"X-ClickHouse-Key", support_key_}};
  EXPECT_THAT(send(r, tls).body, HasSubstr("Code: 195"));
  EXPECT_TRUE(check_->seen().empty());
}

}  // namespace
}  // namespace byoc::render
