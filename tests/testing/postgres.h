// PostgreSQL for tests: a real cluster (initdb, pg_ctl, from Debian's
// postgresql package) on a free loopback port with its own socket dir, and
// a fresh database per test on it.
//
// One cluster serves a whole CTest run: the `postgres_cluster` fixture
// (postgres_fixture.cc) starts it before the first test that needs it and
// stops it after the last, recording where it runs in the file named by
// $BYOC_TEST_POSTGRES_STATE. A test run outside CTest (or whose recorded
// cluster is gone) starts a private cluster for its process instead, stopped
// when the process exits.
#pragma once

#include <filesystem>
#include <string>

namespace byoc::testing {

class PostgresCluster {
 public:
  // initdb (as the `postgres` user when run as root, which initdb refuses)
  // into a new directory under /tmp, then pg_ctl start on a free port.
  static PostgresCluster start();
  // The cluster recorded in `state_file`, if it answers.
  static bool adopt(const std::filesystem::path& state_file, PostgresCluster* out);
  void stop();  // pg_ctl stop -m immediate, then the directory goes
  void save(const std::filesystem::path& state_file) const;

  // postgresql://postgres@127.0.0.1:PORT/DB
  std::string uri(const std::string& database = "postgres") const;
  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
};

// An empty database, dropped (with its connections) when this goes away.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  const std::string& uri() const { return uri_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string uri_;
};

// Runs `sql` on the database at `uri` (a test's own checks and faults);
// throws std::runtime_error on failure. Returns the first value of the first
// row, if any.
std::string postgres_exec(const std::string& uri, const std::string& sql);

// Everything in the database at `uri`, as pg_dump prints it (schema and data).
std::string postgres_dump(const std::string& uri);

}  // namespace byoc::testing
