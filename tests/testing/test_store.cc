#include "testing/test_store.h"

#include <cstdlib>
#include <stdexcept>

namespace byoc::testing {

bool postgres_selected() {
  const char* choice = std::getenv("BYOC_TEST_STORE");
  if (!choice || !*choice || std::string(choice) == "sqlite") return false;
  if (std::string(choice) == "postgresql") return true;
  throw std::runtime_error("BYOC_TEST_STORE must be sqlite or postgresql");
}

TestStore::TestStore(const std::filesystem::path& dir) : dir_(dir) {
  if (postgres_selected()) database_ = std::make_unique<TestDatabase>();
}

std::unique_ptr<store::Store> TestStore::open() const {
  return database_ ? store::open_postgres_store(database_->uri()) : store::open_sqlite_store(dir_ / "byoc.db");
}

namespace {

class TwiceStore final : public store::Store {
 public:
  explicit TwiceStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}
  void transact(const std::function<void(store::Transaction&)>& fn) override {
    try {
      inner_->transact([&](store::Transaction& tx) {
        fn(tx);
        throw RolledBack{};
      });
    } catch (const RolledBack&) {
    }
    inner_->transact(fn);
  }
  void read(const std::function<void(store::Transaction&)>& fn) override {
    try {
      inner_->read([&](store::Transaction& tx) {
        fn(tx);
        throw RolledBack{};
      });
    } catch (const RolledBack&) {
    }
    inner_->read(fn);
  }
  uint64_t generation() const override { return inner_->generation(); }
  bool generation_is_current() const override { return inner_->generation_is_current(); }
  uint64_t current_generation() override { return inner_->current_generation(); }
  void subscribe(store::Subscriber subscriber) override { inner_->subscribe(std::move(subscriber)); }
  void unsubscribe_all() override { inner_->unsubscribe_all(); }
  int schema_version() override { return inner_->schema_version(); }

 private:
  struct RolledBack {};
  std::unique_ptr<store::Store> inner_;
};

}  // namespace

std::unique_ptr<store::Store> TestStore::open_retrying() const { return std::make_unique<TwiceStore>(open()); }

std::string TestStore::server_arg() const { return database_ ? database_->uri() : ""; }

const std::string& TestStore::uri() const {
  if (!database_) throw std::logic_error("not a PostgreSQL test store");
  return database_->uri();
}

}  // namespace byoc::testing
