#include "baseline.h"

#include <signal.h>

#include <optional>
#include <set>
#include <thread>

#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/ports.h"
#include "agent/runtimes/local/proc_table.h"
#include "agent/runtimes/local/service_files.h"
#include "agent/runtimes/local/zookeeper.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "base/process.h"
#include "interrupt.h"

namespace byoc::bench {
namespace fs = std::filesystem;
using namespace agent;
using namespace agent::local;

namespace {

const std::string kService = "baseline";
const std::string kPassword = "baseline password";

std::string quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + quoted(a);
  return out;
}

// The bench measures real time: one machine clock for the files it writes.
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

}  // namespace

BaselineScript::BaselineScript(fs::path dir) : dir_(std::move(dir)) {
  files::ensure_dir(dir_, 0700);
  const fs::path root = dir_ / "root";
  ServiceLayout layout(root, kService);
  ZooKeeperLayout zk(root);

  ServiceSpec spec;
  spec.name = kService;
  spec.clickhouse_version = "18.16.1";
  spec.replicas = 2;
  spec.memory_mib = 1024;
  spec.default_password_sha256_hex = crypto::sha256_hex(kPassword);

  std::set<int> taken;
  ServiceWiring wiring;
  wiring.ports = ensure_ports(layout, spec, taken);
  wiring.cluster_password = crypto::hex(crypto::random_bytes(32));
  wiring.zookeeper_port = pick_port(taken);
  for (const auto& r : replicas_of(spec)) wiring.healthy.insert(r.name);
  crypto::KeyedCertificate ca = make_ca();
  FileWriterOptions options{ca, &machine_clock(), "/usr/sbin/nginx",
                            "/usr/lib/nginx/modules/ngx_stream_module.so"};
  write_service_files(layout, spec, wiring, options);
  write_zookeeper_files(zk, wiring.zookeeper_port);
  files::write_atomic(dir_ / "ca.pem", ca.cert_pem);

  // The script: start everything at once, then poll each until it answers.
  const ReplicaPorts& r1 = wiring.ports.replicas.at("s1r1");
  const ReplicaPorts& r2 = wiring.ports.replicas.at("s1r2");
  std::string s =
      "#!/bin/bash\n# Starts a 1 x 2 service's processes by hand and waits for their first answers.\n";
  s += "cd " + quoted(dir_.string()) + "\n: > pids\nt0=$EPOCHREALTIME\n";
  // Prints when each answered (ms after the start), for the record.
  s += "say() { echo \"$1 answered after $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) ms\"; }\n";
  auto start = [&](const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& out) {
    s += "(cd " + quoted(cwd.string()) + " && exec setsid " + command_line(argv) + " >>" +
         quoted(out.string()) + " 2>&1 </dev/null) &\necho $! >> pids\n";
  };
  files::ensure_dir(zk.logs(), 0700);
  start(zookeeper_process(zk, ZooKeeperOptions{}).argv, zk.dir(), zk.output());
  for (const auto& r : replicas_of(spec))
    start({"/usr/sbin/clickhouse-server", "--config-file=" + layout.replica_config(r.name).string()},
          layout.replica_dir(r.name), layout.replica_output(r.name));
  start({"/usr/sbin/nginx", "-p", layout.endpoint_dir().string() + "/", "-c", layout.nginx_conf().string(),
         "-e", (layout.endpoint_logs() / "error.log").string()},
        layout.endpoint_dir(), layout.nginx_output());
  s += "zk=0 ch1=0 ch2=0 ep=0\n";
  s += "for i in $(seq 1 6000); do\n";
  // Four bytes are the whole answer (a starting ZooKeeper may hold the connection open).
  s +=
      "  [ $zk = 1 ] || { [ \"$( (exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(wiring.zookeeper_port) +
      " && printf ruok >&3 && IFS= read -r -t 0.5 -n 4 a <&3 && printf %s \"$a\") 2>/dev/null)\" = imok ] && "
      "zk=1 && say zk; }\n";
  s += "  [ $ch1 = 1 ] || { [ \"$(curl -s http://127.0.0.1:" + std::to_string(r1.http) +
       "/ping)\" = Ok. ] && ch1=1 && say ch1; }\n";
  s += "  [ $ch2 = 1 ] || { [ \"$(curl -s http://127.0.0.1:" + std::to_string(r2.http) +
       "/ping)\" = Ok. ] && ch2=1 && say ch2; }\n";
  // The endpoint once both replicas answer: an earlier request would find
  // them refusing and take them out for nginx's fail_timeout, measuring
  // that timeout rather than a start.
  s += "  [ $ep = 1 ] || [ $ch1$ch2 != 11 ] || { [ \"$(curl -s --cacert ca.pem -H 'X-ClickHouse-User: "
       "default' -H " +
       quoted("X-ClickHouse-Key: " + kPassword) +
       " --data-binary 'SELECT 1' https://127.0.0.1:" + std::to_string(wiring.ports.https) +
       "/)\" = 1 ] && ep=1 && say ep; }\n";
  s += "  [ $zk$ch1$ch2$ep = 1111 ] && exit 0\n";
  s += "  sleep 0.005\n";
  s += "done\nexit 1\n";
  files::write_atomic(dir_ / "start.sh", s, 0700);
}

BaselineScript::~BaselineScript() {
  try {
    stop();
  } catch (const std::exception&) {
    // Best effort at exit.
  }
}

std::chrono::milliseconds BaselineScript::run() {
  proc::SpawnOptions spawn;
  spawn.argv = {"/bin/bash", (dir_ / "start.sh").string()};
  spawn.output = dir_ / "start.out";
  std::error_code ec;
  fs::remove(spawn.output, ec);
  auto begin = std::chrono::steady_clock::now();
  pid_t pid = proc::spawn(spawn);
  std::optional<int> code;
  while (!(code = proc::try_reap(pid))) {
    if (g_interrupted) proc::terminate(pid, std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begin);
  std::string pids = files::read_if_exists(dir_ / "pids").value_or("");
  for (size_t at = 0; at < pids.size();) {
    size_t end = pids.find('\n', at);
    if (end == std::string::npos) end = pids.size();
    if (end > at) started_.push_back(static_cast<pid_t>(std::stol(pids.substr(at, end - at))));
    at = end + 1;
  }
  throw_if_interrupted();
  if (*code != 0) throw Error::Internal("the baseline script failed; see " + (dir_ / "start.out").string());
  return took;
}

std::string BaselineScript::last_output() const {
  return files::read_if_exists(dir_ / "start.out").value_or("");
}

void BaselineScript::stop() {
  // Started as ZooKeeper, two replicas, nginx: stopped nginx first, ZooKeeper last, as the runtime does.
  if (started_.size() == 4) {
    terminate_together({started_[3]}, std::chrono::seconds(5));
    kill_group_members(started_[3], "nginx");
    terminate_together({started_[1], started_[2]}, std::chrono::seconds(30));
    terminate_together({started_[0]}, std::chrono::seconds(10));
  } else if (!started_.empty()) {
    terminate_together(started_, std::chrono::seconds(10));
  }
  started_.clear();
  // Cold again: no data for the next run.
  for (const fs::path& data :
       {dir_ / "root" / kService / "s1r1" / "data", dir_ / "root" / kService / "s1r2" / "data",
        dir_ / "root" / "_zookeeper" / "data"}) {
    std::error_code ec;
    fs::remove_all(data, ec);
    files::ensure_dir(data, 0700);
  }
}

}  // namespace byoc::bench
