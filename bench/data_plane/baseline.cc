#include "baseline.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/probes.h"
#include "agent/runtimes/local/proc_table.h"
#include "agent/runtimes/local/service_files.h"
#include "agent/runtimes/local/zk_client.h"
#include "agent/runtimes/local/zookeeper.h"
#include "base/error.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/process.h"
#include "cluster_proof.h"
#include "interrupt.h"

namespace byoc::bench {
namespace fs = std::filesystem;
using namespace agent;
using namespace agent::local;
using SteadyClock = std::chrono::steady_clock;

namespace {

const std::string kService = "baseline";
const std::string kPassword = "baseline password";
constexpr std::chrono::seconds kStartWait{60};
// Asked once ZooKeeper serves (below), a session is up in milliseconds.
constexpr std::chrono::milliseconds kSessionAttempt{1'000};
constexpr std::chrono::seconds kChrootWait{10};
constexpr std::chrono::milliseconds kProbeTimeout{500};

std::chrono::milliseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
}

// The bench measures real time: one machine clock for the certificates.
const SystemClock& machine_clock() {
  static const SystemClock clock;
  return clock;
}

crypto::KeyedCertificate make_ca() {
  crypto::CertificateSpec spec;
  spec.common_name = "byoc bench CA";
  spec.is_ca = true;
  spec.not_before = machine_clock().system_time() - std::chrono::hours(1);
  spec.not_after = spec.not_before + std::chrono::hours(48);
  return crypto::make_ca(spec);
}

ServiceSpec baseline_spec() {
  ServiceSpec spec;
  spec.name = kService;
  spec.clickhouse_version = "18.16.1";
  spec.replicas = 2;
  spec.memory_mib = 1024;  // what the byoc side asks for (--memory-mib 1024)
  spec.default_password_sha256_hex = crypto::sha256_hex(kPassword);
  return spec;
}

// Polls `condition` with a 1 ms pause until it holds, or throws after `bound`.
void poll(const std::string& what, std::chrono::milliseconds bound, const std::function<bool()>& condition) {
  const auto deadline = SteadyClock::now() + bound;
  while (!condition()) {
    throw_if_interrupted();
    if (SteadyClock::now() >= deadline) throw Error::Internal("baseline: " + what + " within " +
                                                              std::to_string(bound.count()) + " ms");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Does ZooKeeper serve clients yet? `ruok` is no test of that: ZooKeeper
// 3.8 answers `imok` as soon as it listens, hundreds of milliseconds before
// it has loaded its database, and refuses sessions ("ZooKeeperServer not
// running") until then. `srvr` (always enabled) reports its mode only once
// it serves.
bool zookeeper_serves(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval timeout{0, static_cast<suseconds_t>(kProbeTimeout.count() * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, "srvr", 4, MSG_NOSIGNAL) == 4) {
    char buffer[512];
    // The server closes the connection after its answer; "Mode:" ends it.
    for (ssize_t n; answer.find("Mode:") == std::string::npos &&
                    (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
      answer.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer.find("Mode: standalone") != std::string::npos;
}

// Does the replica on `http_port` answer a query that needs its ZooKeeper session?
bool has_zookeeper_session(int http_port) {
  try {
    http::Client client;
    http::Request r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(http_port) + "/";
    r.body = "SELECT count() FROM system.zookeeper WHERE path = '/'";
    r.timeout = std::chrono::seconds(5);
    r.headers = {{"X-ClickHouse-User", "default"}, {"X-ClickHouse-Key", kPassword}};
    http::Response answer = client.send(r);
    return answer.status == 200;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

Baseline::Baseline(fs::path dir) : dir_(std::move(dir)), root_(dir_ / "root"), ca_(make_ca()) {
  files::ensure_dir(dir_, 0700);
  cluster_password_ = crypto::hex(crypto::random_bytes(32));
}

Baseline::~Baseline() {
  try {
    stop();
  } catch (const std::exception&) {
    // Best effort at exit: every pid was signalled by then.
  }
}

pid_t Baseline::start(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& output) {
  proc::SpawnOptions spawn;
  spawn.argv = argv;
  spawn.cwd = cwd;
  spawn.output = output;
  return proc::spawn(spawn);  // its own session, no inherited descriptor: as byoc's supervisor
}

BaselineRun Baseline::run() {
  if (fs::exists(root_)) throw Error::Internal("baseline: " + root_.string() + " is left from a run");
  const ServiceSpec spec = baseline_spec();
  // Ports picked before the clock starts (byoc picks them too, in
  // microseconds), again whenever one was taken meanwhile.
  bool bindable = zookeeper_port_ > 0 && port_bindable(zookeeper_port_);
  for (int p : all_ports(ports_)) bindable = bindable && port_bindable(p);
  if (!bindable) {
    std::set<int> taken;
    ports_ = ServicePorts{};
    for (const auto& r : replicas_of(spec)) {
      ReplicaPorts& p = ports_.replicas[r.name];
      p = {pick_port(taken), pick_port(taken), pick_port(taken)};
    }
    ports_.https = pick_port(taken);
    ports_.native_tls = pick_port(taken);
    zookeeper_port_ = pick_port(taken);
  }

  BaselineRun times;
  const auto t0 = SteadyClock::now();
  ZooKeeperLayout zk(root_);
  write_zookeeper_files(zk, zookeeper_port_);
  zookeeper_ = start(zookeeper_process(zk, ZooKeeperOptions{}).argv, zk.dir(), zk.output());
  times.zookeeper_started = since(t0);

  // The JVM takes most of a second: the files are written meanwhile.
  ServiceLayout layout(root_, kService);
  files::ensure_dir(layout.dir(), 0700);
  ServiceWiring wiring;
  wiring.ports = ports_;
  wiring.cluster_password = cluster_password_;
  wiring.zookeeper_port = zookeeper_port_;
  for (const auto& r : replicas_of(spec)) wiring.healthy.insert(r.name);  // nginx sends to both
  FileWriterOptions options{ca_, &machine_clock(), "/usr/sbin/nginx", "/usr/lib/nginx/modules/ngx_stream_module.so"};
  write_service_files(layout, spec, wiring, options);
  times.files_written = since(t0);

  poll("ZooKeeper did not serve", kStartWait, [&] { return zookeeper_serves(zookeeper_port_); });
  times.zookeeper_serves = since(t0);

  const std::string chroot = zookeeper_chroot(kService);
  const auto chroot_deadline = SteadyClock::now() + kChrootWait;
  while (true) {
    throw_if_interrupted();
    try {
      ZooKeeperClient client("127.0.0.1", zookeeper_port_, kSessionAttempt);
      client.create_path(chroot);
      if (!client.exists(chroot)) throw Error::Internal("baseline: " + chroot + " missing after its creation");
      break;
    } catch (const Error& e) {
      if (SteadyClock::now() >= chroot_deadline)
        throw Error::Internal(std::string("baseline: cannot create the chroot: ") + e.what());
    }
  }
  times.chroot_made = since(t0);

  for (const auto& r : replicas_of(spec))
    replicas_.push_back(start({"/usr/sbin/clickhouse-server", "--config-file=" + layout.replica_config(r.name).string()},
                              layout.replica_dir(r.name), layout.replica_output(r.name)));
  // Nothing reaches nginx before both replicas answer: starting it now costs
  // no fail_timeout.
  nginx_ = start({"/usr/sbin/nginx", "-p", layout.endpoint_dir().string() + "/", "-c", layout.nginx_conf().string(),
                  "-e", (layout.endpoint_logs() / "error.log").string()},
                 layout.endpoint_dir(), layout.nginx_output());
  times.processes_started = since(t0);

  for (const auto& r : replicas_of(spec)) {
    int port = ports_.replicas.at(r.name).http;
    poll(r.name + " did not answer /ping", kStartWait, [&] { return clickhouse_answers(port); });
  }
  times.replicas_answer = since(t0);

  // ClickHouse 18.16 answers /ping before its first ZooKeeper session is up,
  // and an ON CLUSTER query that reaches it within those few milliseconds
  // can crash it (SIGSEGV in zkutil::ZooKeeper::createImpl: 3 times in 19
  // runs here without this wait, never in 30 with it). A query on
  // system.zookeeper needs the session: once each replica answers one, the
  // DDL is safe.
  for (const auto& r : replicas_of(spec)) {
    int port = ports_.replicas.at(r.name).http;
    poll(r.name + " has no ZooKeeper session", kStartWait, [&] { return has_zookeeper_session(port); });
  }
  times.sessions_up = since(t0);

  ServiceAccess access;
  access.endpoint = "https://127.0.0.1:" + std::to_string(ports_.https);
  access.ca_pem = ca_.cert_pem;
  access.password = kPassword;
  access.cluster = kService;
  for (const auto& r : replicas_of(spec)) access.replica_http_ports.push_back(ports_.replicas.at(r.name).http);
  ProofTimes proof = prove_replication(access, t0);
  times.ddl_done = proof.ddl_done;
  times.insert_done = proof.insert_done;
  times.replicated = proof.replicated;
  return times;
}

void Baseline::stop() {
  // In byoc's order: the endpoint first (ClickHouse keeps serving open
  // keep-alive connections after SIGTERM), then the replicas, ZooKeeper last.
  if (nginx_) {
    terminate_together({*nginx_}, std::chrono::seconds(5));
    kill_group_members(*nginx_, "nginx");  // workers that outlived their master
    nginx_.reset();
  }
  if (!replicas_.empty()) terminate_together(replicas_, std::chrono::seconds(30));
  replicas_.clear();
  if (zookeeper_) terminate_together({*zookeeper_}, std::chrono::seconds(10));
  zookeeper_.reset();
  std::error_code ec;
  if (fs::exists(root_)) {
    // Its processes' logs outlive the run, for --keep.
    const fs::path kept = dir_ / "logs" / ("run" + std::to_string(++runs_));
    files::ensure_dir(kept, 0700);
    fs::copy_file(ZooKeeperLayout(root_).log_file(), kept / "zookeeper.log", ec);
    ServiceLayout layout(root_, kService);
    for (const auto& r : replicas_of(baseline_spec()))
      fs::copy_file(layout.replica_logs(r.name) / "clickhouse-server.log", kept / (r.name + ".log"), ec);
  }
  fs::remove_all(root_, ec);
  if (ec) throw Error::Internal("baseline: cannot delete " + root_.string() + ": " + ec.message());
}

}  // namespace byoc::bench
