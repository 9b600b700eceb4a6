// Shared by the local runtime's integration tests: an environment CA, a
// runtime on a scratch root, customers' ways in (HTTPS through the endpoint,
// clickhouse-client --secure, a bare TLS handshake from a chosen loopback
// source), direct queries to one replica, and a teardown that stops every
// process the runtime started and fails the test if one is left.
// Not thread-safe, except where noted.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/runtimes/local/local_runtime.h"
#include "base/crypto.h"
#include "base/http_client.h"
#include "testing/testing.h"

namespace byoc::agent::test {

extern const std::string kPassword;  // the `default` user's, in every spec made here

crypto::KeyedCertificate make_environment_ca();

// A valid spec of the given topology (1 CPU, 1 GiB per replica).
ServiceSpec service_spec(const std::string& name, int shards = 1, int replicas = 1);

// Live processes whose command line names a path under `dir`.
std::vector<pid_t> processes_under(const std::filesystem::path& dir);

// Processes named `comm` whose command line has `argument` as a whole word.
std::vector<pid_t> processes_with(const std::string& comm, const std::string& argument);

// POST `sql` to an endpoint as `default`, trusting only `ca_pem`. Thread-safe.
http::Response endpoint_query(const std::string& endpoint, const std::string& ca_pem, const std::string& sql,
                              const std::string& source = "",
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A TLS handshake with 127.0.0.1:port from `source`, verifying the server
// against `ca_pem` (and its IP 127.0.0.1). True if it completed.
bool tls_handshake(int port, const std::string& ca_pem, const std::string& source);

// clickhouse-client --secure against 127.0.0.1:port as `default`, trusting
// only the CA in `ca_file`. Its exit code and output.
std::pair<int, std::string> native_query(const std::filesystem::path& scratch, int port,
                                         const std::filesystem::path& ca_file, const std::string& password,
                                         const std::string& sql);

// apply() as the agent drives it: the call issues the work and returns; the
// caller then supervises (as the agent does every 200 ms) until observe()
// says the service has settled, READY or FAILED, within `timeout`. A refusal
// comes back as apply() gave it. The settled status, or the last one seen.
ServiceStatus apply_and_converge(Runtime& runtime, const ServiceSpec& spec,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The status observe() gives `name` (FAILED "incomplete" if none: a test failure).
ServiceStatus observed(Runtime& runtime, const std::string& name);

class RuntimeTest : public ::testing::Test {
 protected:
  RuntimeTest();
  ~RuntimeTest() override;

  LocalRuntimeOptions options() const;
  std::unique_ptr<Runtime> make_runtime() const { return make_local_runtime(options()); }

  std::filesystem::path root() const { return dir_.path() / "runtime"; }
  std::filesystem::path service_dir(const std::string& name) const { return root() / name; }
  std::filesystem::path zookeeper_dir() const { return root() / "_zookeeper"; }
  std::optional<pid_t> replica_pid(const std::string& service, const std::string& replica) const;
  std::optional<pid_t> endpoint_pid(const std::string& service) const;
  std::optional<pid_t> zookeeper_pid() const;
  std::optional<int> zookeeper_port() const;
  int replica_http_port(const std::string& service, const std::string& replica) const;

  // apply_and_converge(), remembering every pid for the last-resort cleanup.
  ServiceStatus apply(const ServiceSpec& spec);
  ServiceStatus observe(const std::string& name);
  void track(const std::string& name);

  http::Response query(const ServiceStatus& status, const std::string& sql, const std::string& source = "") {
    return endpoint_query(status.endpoint, ca_.cert_pem, sql, source);
  }
  // Straight to one replica's HTTP port as `default` (from 127.0.0.1).
  http::Response replica_query(const std::string& service, const std::string& replica,
                               const std::string& sql);

  // Calls supervise() as the agent does, until `condition` holds.
  bool supervise_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

  testing::TempDir dir_{"byoc-runtime"};
  crypto::KeyedCertificate ca_;
  SystemClock clock_;  // real processes run in real time
  std::unique_ptr<Runtime> runtime_;
  std::set<pid_t> started_pids_;
};

}  // namespace byoc::agent::test
