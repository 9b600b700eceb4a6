#include "runtime_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/proc_table.h"
#include "base/error.h"
#include "base/files.h"
#include "base/process.h"

namespace byoc::agent::test {
namespace fs = std::filesystem;

const std::string kPassword = "correct horse battery staple";

crypto::KeyedCertificate make_environment_ca() {
  crypto::CertificateSpec spec;
  spec.common_name = "byoc test environment CA";
  spec.is_ca = true;
  auto now = std::chrono::system_clock::now();
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + std::chrono::hours(24 * 365 * 2);
  return crypto::make_ca(spec);
}

ServiceSpec service_spec(const std::string& name, int shards, int replicas) {
  ServiceSpec spec;
  spec.name = name;
  spec.clickhouse_version = "18.16.1";
  spec.shards = shards;
  spec.replicas = replicas;
  spec.cpu_millis = 1000;
  spec.memory_mib = 1024;
  spec.default_password_sha256_hex = crypto::sha256_hex(kPassword);
  return spec;
}

std::vector<pid_t> processes_under(const fs::path& dir) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    pid_t pid = std::stoi(name);
    if (proc::is_alive(pid) && local::process_cmdline(pid).find(dir.string() + "/") != std::string::npos)
      out.push_back(pid);
  }
  return out;
}

std::vector<pid_t> processes_with(const std::string& comm, const std::string& argument) {
  return local::find_processes(comm, argument);
}

http::Response endpoint_query(const std::string& endpoint, const std::string& ca_pem, const std::string& sql,
                              const std::string& source, std::chrono::milliseconds timeout) {
  http::Client client(http::TlsOptions{.ca_pem = ca_pem});
  http::Request request;
  request.method = "POST";
  request.url = endpoint + "/";
  request.body = sql;
  request.source_address = source;
  request.timeout = timeout;
  request.headers.emplace_back("X-ClickHouse-User", "default");
  request.headers.emplace_back("X-ClickHouse-Key", kPassword);
  return client.send(request);
}

bool tls_handshake(int port, const std::string& ca_pem, const std::string& source) {
  // A denied client is cut off mid-handshake: a write must fail, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  bool ok = false;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0) {
    SSL_set_fd(ssl, fd);
    ok = SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK;
  }
  SSL_free(ssl);
  X509_free(ca);
  BIO_free(bio);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  ::close(fd);
  return ok;
}

std::pair<int, std::string> native_query(const fs::path& scratch, int port, const fs::path& ca_file,
                                         const std::string& password, const std::string& sql) {
  fs::path config = scratch / "client.xml";
  files::write_atomic(
      config, "<config><openSSL><client><loadDefaultCAFile>false</loadDefaultCAFile><caConfig>" +
                  ca_file.string() +
                  "</caConfig><verificationMode>strict</verificationMode><invalidCertificateHandler>"
                  "<name>RejectCertificateHandler</name></invalidCertificateHandler></client></openSSL>"
                  "</config>\n");
  fs::path output = scratch / "client.out";
  std::error_code ec;
  fs::remove(output, ec);
  proc::SpawnOptions spawn;
  spawn.argv = {"/usr/bin/clickhouse-client",
                "--config-file",
                config.string(),
                "--secure",
                "--host",
                "127.0.0.1",
                "--port",
                std::to_string(port),
                "--user",
                "default",
                "--password",
                password,
                "-q",
                sql};
  spawn.output = output;
  pid_t pid = proc::spawn(spawn);
  std::optional<int> code;
  bool done = testing::eventually([&] { return (code = proc::try_reap(pid)).has_value(); });
  if (!done) {
    proc::terminate(pid, std::chrono::seconds(1));
    return {-1, "timed out"};
  }
  return {*code, files::read_if_exists(output).value_or("")};
}

RuntimeTest::RuntimeTest() : ca_(make_environment_ca()) { runtime_ = make_runtime(); }

RuntimeTest::~RuntimeTest() {
  try {
    if (!runtime_) runtime_ = make_runtime();
    runtime_->stop_all();
    for (const auto& name : runtime_->services()) runtime_->remove(name);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cleanup: " << e.what();
  }
  runtime_.reset();
  // Nothing the runtime started may outlive the test: a process still
  // running from our directory is a failure, and is killed by pid.
  for (pid_t pid : processes_under(dir_.path())) {
    ADD_FAILURE() << "left running: " << pid << " " << local::process_cmdline(pid);
    started_pids_.insert(pid);
  }
  for (pid_t pid : started_pids_)
    if (proc::is_alive(pid)) proc::terminate(pid, std::chrono::seconds(5));
}

LocalRuntimeOptions RuntimeTest::options() const {
  LocalRuntimeOptions o;
  o.root = root();
  o.environment_ca = ca_;
  o.clock = &clock_;
  return o;
}

std::optional<pid_t> RuntimeTest::replica_pid(const std::string& service, const std::string& replica) const {
  return proc::read_pid_file(service_dir(service) / replica / "clickhouse-server.pid");
}

std::optional<pid_t> RuntimeTest::endpoint_pid(const std::string& service) const {
  return proc::read_pid_file(service_dir(service) / "endpoint" / "nginx.pid");
}

std::optional<pid_t> RuntimeTest::zookeeper_pid() const {
  return proc::read_pid_file(zookeeper_dir() / "zookeeper.pid");
}

std::optional<int> RuntimeTest::zookeeper_port() const {
  auto text = files::read_if_exists(zookeeper_dir() / "port.json");
  if (!text) return std::nullopt;
  return nlohmann::json::parse(*text).at("client").get<int>();
}

int RuntimeTest::replica_http_port(const std::string& service, const std::string& replica) const {
  auto ports = local::load_ports(service_dir(service) / "ports.json");
  return ports ? ports->replicas.at(replica).http : 0;
}

void RuntimeTest::track(const std::string& name) {
  for (pid_t pid : processes_under(service_dir(name))) started_pids_.insert(pid);
  for (pid_t pid : processes_under(zookeeper_dir())) started_pids_.insert(pid);
}

ServiceStatus apply_and_converge(Runtime& runtime, const ServiceSpec& spec, std::chrono::milliseconds timeout) {
  ServiceStatus status = runtime.apply(spec);
  if (status.state == ServiceState::kFailed && status.reason.rfind("unsupported_", 0) == 0) return status;
  testing::eventually(
      [&] {
        runtime.supervise();
        status = observed(runtime, spec.name);
        return status.state != ServiceState::kProvisioning;
      },
      timeout);
  return status;
}

ServiceStatus observed(Runtime& runtime, const std::string& name) {
  for (auto& status : runtime.observe())
    if (status.name == name) return status;
  ADD_FAILURE() << "no status for " << name;
  return {name, ServiceState::kFailed, "", "", "incomplete", {}};
}

ServiceStatus RuntimeTest::apply(const ServiceSpec& spec) {
  ServiceStatus status = apply_and_converge(*runtime_, spec);
  track(spec.name);
  return status;
}

ServiceStatus RuntimeTest::observe(const std::string& name) { return observed(*runtime_, name); }

http::Response RuntimeTest::replica_query(const std::string& service, const std::string& replica,
                                          const std::string& sql) {
  http::Client client;
  http::Request request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(replica_http_port(service, replica)) + "/";
  request.body = sql;
  request.timeout = std::chrono::seconds(30);
  request.headers.emplace_back("X-ClickHouse-User", "default");
  request.headers.emplace_back("X-ClickHouse-Key", kPassword);
  try {
    return client.send(request);
  } catch (const Error& e) {
    http::Response failed;
    failed.body = e.what();
    return failed;
  }
}

bool RuntimeTest::supervise_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return testing::eventually(
      [&] {
        runtime_->supervise();
        return condition();
      },
      timeout);
}

}  // namespace byoc::agent::test
