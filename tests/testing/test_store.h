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
