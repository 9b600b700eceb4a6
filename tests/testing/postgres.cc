#include "testing/postgres.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <vector>

#include "base/files.h"
#include "base/process.h"

namespace byoc::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The newest PostgreSQL server binaries Debian installed.
fs::path bin_dir() {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(entry.path() / "bin" / "initdb")) found.push_back(entry.path() / "bin");
  if (found.empty()) throw std::runtime_error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)");
  std::sort(found.begin(), found.end());
  return found.back();
}

// argv run as the cluster's owner: `postgres` when we are root.
std::vector<std::string> as_owner(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

void run(const std::vector<std::string>& argv, const fs::path& log) {
  proc::SpawnOptions spawn;
  spawn.argv = argv;
  spawn.output = log;
  pid_t pid = proc::spawn(spawn);
  std::optional<int> status;
  if (!proc::wait_for(120s, [&] { return (status = proc::try_reap(pid)).has_value(); })) {
    proc::terminate(pid, 1s);
    throw std::runtime_error(argv[0] + " did not finish");
  }
  if (*status != 0) {
    std::string tail = files::read_if_exists(log).value_or("");
    if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
    throw std::runtime_error(argv.back() + " failed (" + std::to_string(*status) + "): " + tail);
  }
}

bool answers(const std::string& uri) {
  PGconn* c = PQconnectdb((uri + "?connect_timeout=3").c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  PQfinish(c);
  return ok;
}

// The private cluster of a process that found no shared one.
struct PrivateCluster {
  std::mutex mutex;
  std::optional<PostgresCluster> cluster;
  ~PrivateCluster() {
    if (cluster) cluster->stop();
  }
};
PrivateCluster g_private;

PostgresCluster shared_cluster() {
  std::lock_guard lock(g_private.mutex);
  if (g_private.cluster) return *g_private.cluster;
  PostgresCluster c;
  if (const char* state = std::getenv("BYOC_TEST_POSTGRES_STATE"); state && *state)
    if (PostgresCluster::adopt(state, &c)) return c;
  g_private.cluster = PostgresCluster::start();
  return *g_private.cluster;
}

}  // namespace

PostgresCluster PostgresCluster::start() {
  fs::path bin = bin_dir();
  // Not under $TMPDIR: the test scratch dirs are 0700 root, and the server
  // runs as `postgres`.
  PostgresCluster c;
  std::string pattern = "/tmp/byoc-pg-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp for PostgreSQL failed");
  c.dir_ = pattern;
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("no `postgres` user to run PostgreSQL as");
    if (::chown(c.dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown of the cluster dir");
  }
  fs::path data = c.dir_ / "data";
  fs::path log = "/tmp/byoc-pg-setup-" + std::to_string(::getpid()) + ".log";
  try {
    run(as_owner({(bin / "initdb").string(), "-D", data.string(), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions"}),
        log);
    for (int attempt = 0;; ++attempt) {
      c.port_ = proc::pick_free_port();
      std::string options = "-p " + std::to_string(c.port_) + " -k " + c.dir_.string() +
                            " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                            " -c full_page_writes=off -c max_connections=400";
      try {
        run(as_owner({(bin / "pg_ctl").string(), "-D", data.string(), "-l", (c.dir_ / "server.log").string(),
                      "-o", options, "-w", "-t", "60", "start"}),
            log);
        break;
      } catch (const std::exception&) {
        if (attempt >= 3) throw;  // the port was taken meanwhile: another
      }
    }
  } catch (...) {
    std::error_code ec;
    fs::remove(log, ec);
    c.stop();
    throw;
  }
  std::error_code ec;
  fs::remove(log, ec);
  return c;
}

bool PostgresCluster::adopt(const fs::path& state_file, PostgresCluster* out) {
  auto text = files::read_if_exists(state_file);
  if (!text) return false;
  try {
    auto j = nlohmann::json::parse(*text);
    PostgresCluster c;
    c.dir_ = j.at("dir").get<std::string>();
    c.port_ = j.at("port").get<int>();
    if (!answers(c.uri())) return false;
    *out = c;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void PostgresCluster::save(const fs::path& state_file) const {
  files::write_atomic(state_file, nlohmann::json{{"dir", dir_.string()}, {"port", port_}}.dump() + "\n", 0600);
}

void PostgresCluster::stop() {
  if (dir_.empty()) return;
  fs::path data = dir_ / "data";
  if (fs::exists(data / "postmaster.pid")) {
    try {
      run(as_owner({(bin_dir() / "pg_ctl").string(), "-D", data.string(), "-m", "immediate", "-w", "stop"}),
          "/dev/null");
    } catch (const std::exception&) {
      // Already gone; what is left is removed below.
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

std::string PostgresCluster::uri(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string postgres_exec(const std::string& uri, const std::string& sql) {
  PGconn* c = PQconnectdb(uri.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string message = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot connect to " + uri + ": " + message);
  }
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType status = PQresultStatus(r);
  std::string value, message = PQresultErrorMessage(r);
  if (status == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) value = PQgetvalue(r, 0, 0);
  PQclear(r);
  PQfinish(c);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + message);
  return value;
}

std::string postgres_dump(const std::string& uri) {
  fs::path out = "/tmp/byoc-pg-dump-" + std::to_string(::getpid()) + ".sql";
  run({(bin_dir() / "pg_dump").string(), "--dbname=" + uri, "--file=" + out.string()}, "/dev/null");
  std::string text = files::read(out);
  std::error_code ec;
  fs::remove(out, ec);
  return text;
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  PostgresCluster cluster = shared_cluster();
  name_ = "byoc_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  postgres_exec(cluster.uri(), "CREATE DATABASE " + name_ + " TEMPLATE template0");
  uri_ = cluster.uri(name_);
}

TestDatabase::~TestDatabase() {
  try {
    postgres_exec(shared_cluster().uri(), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster is gone already: nothing is left to drop.
  }
}

}  // namespace byoc::testing
