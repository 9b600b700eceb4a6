// The store a test runs on, chosen by $BYOC_TEST_STORE: SQLite in the test's
// own directory (unset or "sqlite"), or a fresh PostgreSQL database
// ("postgresql", postgres.h). CTest runs the store-backed tests once per
// backend, each labelled with its backend (tests/CMakeLists.txt).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "store/store.h"
#include "testing/postgres.h"

namespace byoc::testing {

// Whether this run's store-backed tests use PostgreSQL.
bool postgres_selected();

class TestStore {
 public:
  explicit TestStore(const std::filesystem::path& dir);
  // A new Store on this test's data (call again to reopen it).
  std::unique_ptr<store::Store> open() const;
  // The same, running every callback twice: first in a transaction rolled
  // back whatever it did (as a PostgreSQL transaction that lost a conflict
  // at COMMIT and is run again), then for real. Code under test that keeps
  // anything from a first run (a flag set, an item appended) shows it.
  std::unique_ptr<store::Store> open_retrying() const;
  // `byoc server --store` for this data: a URI, or "" (the server's data dir).
  std::string server_arg() const;
  bool postgres() const { return database_ != nullptr; }
  // The PostgreSQL URI (postgres() only).
  const std::string& uri() const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> database_;
};

}  // namespace byoc::testing
