// SQLite implementation of store::Store, in WAL mode.
//
// Writes: one connection with foreign keys and a busy timeout; a mutex
// serialises transact() (SQLite has one writer anyway). Commits are
// group-committed: transact() returns only once its commit (and any commit it
// could have read) is synced to disk, but concurrent callers share one WAL
// sync, so N threads cost one fsync rather than N.
//
// Reads: read() runs on a connection of its own, taken from a pool of
// query-only connections (one per concurrent reader, opened on demand), in a
// deferred transaction: WAL gives each a snapshot, so readers neither wait for
// the writer nor for each other. A reader also waits until what it may have
// seen is on disk, as a writer does.
//
// Statements are prepared once per connection and cached.
#include <fcntl.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "base/error.h"
#include "base/process.h"
#include "store/sql/migrations.h"
#include "store/sql/transaction.h"
#include "store/sqlite/leases.h"
#include "store/sqlite/statement.h"
#include "store/store.h"
#include "store/subscribers.h"

namespace byoc::store {
namespace {
using Outbox = std::vector<std::pair<std::string, std::string>>;

// Runs `fn` in a session on `cache`'s connection (the caller holds BEGIN);
// returns what it published.
Outbox run_in_session(sqlite::StatementCache& cache, const std::function<void(Transaction&)>& fn,
                      bool read_only) {
  sqlite::SqliteSession session(cache, read_only);
  sqlite::SqliteLeases leases(session);
  sql::with_transaction(session, leases, fn);
  return std::move(session.outbox());
}

// SQLite makes the database 0644 and gives its WAL and shared-memory files
// the database's mode: making the file 0600 first keeps all three private.
void create_private(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::fchmod(fd, 0600);
    ::close(fd);
  }
}

sqlite3* open_connection(const std::filesystem::path& path) {
  if (path != ":memory:") create_private(path);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error::Internal("cannot open store " + path.string() + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// A connection for read(): query-only, so a write through it throws.
struct ReadConnection {
  explicit ReadConnection(const std::filesystem::path& path) : db(open_connection(path)) {
    sqlite::exec(db, "PRAGMA query_only = ON");
    cache = std::make_unique<sqlite::StatementCache>(db);
  }
  ~ReadConnection() {
    cache.reset();
    sqlite3_close(db);
  }
  ReadConnection(const ReadConnection&) = delete;
  ReadConnection& operator=(const ReadConnection&) = delete;

  sqlite3* db;
  std::unique_ptr<sqlite::StatementCache> cache;
};

// One server per store file: generation() and publish() reach this process
// only, so a second server on the same file would serve stale caches.
std::optional<proc::FileLock> lock_store_file(const std::filesystem::path& path) {
  if (path == ":memory:") return std::nullopt;
  std::filesystem::path lock = path;
  lock += ".lock";
  auto held = proc::FileLock::try_acquire(lock);
  if (!held)
    throw Error::Conflict("store_in_use",
                          "another byoc server uses the store " + path.string() +
                              " (a SQLite store has one server; several share a PostgreSQL one)",
                          "store");
  return held;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::filesystem::path& path)
      : path_(path), lock_(lock_store_file(path)), db_(open_connection(path)) {
    sqlite::exec(db_, "PRAGMA journal_mode = WAL");
    // NORMAL syncs the WAL only around checkpoints (never corrupt after a
    // crash or power loss); durability of each commit comes from the group
    // sync in transact(), which is what FULL would do, once per batch.
    sqlite::exec(db_, "PRAGMA synchronous = NORMAL");
    sqlite::exec(db_, "PRAGMA foreign_keys = ON");
    migrate();
    // The WAL exists from the first write on and stays (same inode) while
    // this connection is open; fdatasync on any descriptor flushes it.
    std::filesystem::path wal = path;
    wal += "-wal";
    wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) {
      int error = errno;
      sqlite3_close(db_);
      throw Error::Internal("cannot open the store's write-ahead log " + wal.string() + ": " +
                            std::strerror(error));
    }
    cache_ = std::make_unique<sqlite::StatementCache>(db_);
  }

  ~SqliteStore() override {
    idle_readers_.clear();
    cache_.reset();
    sqlite3_close(db_);
    if (wal_fd_ >= 0) ::close(wal_fd_);
  }

  void transact(const std::function<void(Transaction&)>& fn) override {
    uint64_t must_be_durable = 0;
    Outbox published;
    {
      std::lock_guard lock(mutex_);
      sqlite::run_cached(*cache_, "BEGIN IMMEDIATE");
      int64_t changes = sqlite3_total_changes64(db_);
      bool changed = false;
      try {
        published = run_in_session(*cache_, fn, false);
        // Counted before COMMIT: from the COMMIT on, a reader may see it.
        changed = sqlite3_total_changes64(db_) != changes;
        if (changed) visible_writes_.fetch_add(1);
        sqlite::run_cached(*cache_, "COMMIT");
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        if (changed) generation_.fetch_add(1);  // a failed COMMIT: moving on is harmless
        throw;
      }
      // Moved after COMMIT: whoever sees the new generation reads the commit.
      if (changed) generation_.fetch_add(1);
      // Everything committed so far: what this transaction wrote and what it
      // may have read from others' commits that aren't on disk yet.
      must_be_durable = visible_writes_.load();
    }
    wait_durable(must_be_durable);
    for (const auto& [topic, message] : published) subscribers_.deliver(topic, message);
  }

  void read(const std::function<void(Transaction&)>& fn) override {
    std::unique_ptr<ReadConnection> conn = take_reader();
    // Deferred: the snapshot starts at the first read and ends at COMMIT.
    sqlite::run_cached(*conn->cache, "BEGIN");
    try {
      run_in_session(*conn->cache, fn, true);
      sqlite::run_cached(*conn->cache, "COMMIT");
    } catch (...) {
      sqlite3_exec(conn->db, "ROLLBACK", nullptr, nullptr, nullptr);
      give_back_reader(std::move(conn));
      throw;
    }
    give_back_reader(std::move(conn));
    wait_durable(visible_writes_.load());
  }

  uint64_t generation() const override { return generation_.load(); }
  bool generation_is_current() const override { return true; }
  uint64_t current_generation() override { return generation_.load(); }
  void subscribe(Subscriber subscriber) override { subscribers_.add(std::move(subscriber)); }
  void unsubscribe_all() override { subscribers_.clear(); }

  int schema_version() override {
    std::lock_guard lock(mutex_);
    return current_version();
  }

 private:
  std::unique_ptr<ReadConnection> take_reader() {
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        auto conn = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return conn;
      }
    }
    return std::make_unique<ReadConnection>(path_);
  }

  void give_back_reader(std::unique_ptr<ReadConnection> conn) {
    std::lock_guard lock(readers_mutex_);
    idle_readers_.push_back(std::move(conn));
  }

  // Group commit: the first caller to find its commit not yet on disk syncs
  // the WAL for everyone committed until then; the others wait for it (or
  // for the next round). Runs outside mutex_, so transactions go on meanwhile.
  void wait_durable(uint64_t target) {
    if (synced_.load() >= target) return;  // the common case for readers
    std::unique_lock lock(sync_mutex_);
    while (synced_.load() < target) {
      if (syncing_) {
        sync_cv_.wait(lock);
        continue;
      }
      syncing_ = true;
      lock.unlock();
      // Read under mutex_: every write counted then has finished its COMMIT,
      // so the sync below covers it.
      uint64_t goal = 0;
      {
        std::lock_guard writer(mutex_);
        goal = visible_writes_.load();
      }
      int rc = ::fdatasync(wal_fd_);
      int error = errno;
      lock.lock();
      syncing_ = false;
      sync_cv_.notify_all();
      if (rc != 0)
        throw Error::Internal(std::string("cannot sync the store's write-ahead log: ") + std::strerror(error));
      synced_.store(std::max(synced_.load(), goal));
    }
  }

  int current_version() {
    sqlite::OneShot st(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    st.step();
    return static_cast<int>(st.integer(0));
  }

  void migrate() {
    sqlite::exec(db_, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER)");
    const auto& all = sql::migrations();
    int version = current_version();
    if (version > static_cast<int>(all.size()))
      throw Error::Internal("store schema version " + std::to_string(version) +
                            " is newer than this byoc understands (" + std::to_string(all.size()) + ")");
    for (int next = version + 1; next <= static_cast<int>(all.size()); ++next) {
      sqlite::exec(db_, "BEGIN IMMEDIATE");
      try {
        sqlite::exec(db_, all[next - 1].text(sql::Dialect::kSqlite).c_str());
        sqlite::OneShot(db_, "INSERT INTO schema_version VALUES (?, strftime('%s','now'))").bind(1, next).step();
        sqlite::exec(db_, "COMMIT");
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
    // Migrations are rare: make them durable before serving.
    sqlite::exec(db_, "PRAGMA wal_checkpoint(FULL)");
  }

  const std::filesystem::path path_;
  std::optional<proc::FileLock> lock_;
  sqlite3* db_ = nullptr;
  int wal_fd_ = -1;
  std::unique_ptr<sqlite::StatementCache> cache_;
  std::mutex mutex_;  // one write transaction at a time on db_
  // Write transactions that changed something, counted just before their
  // COMMIT (in the WAL from then on, maybe not on disk).
  std::atomic<uint64_t> visible_writes_{0};
  // The same, counted just after their COMMIT (see Store::generation()).
  std::atomic<uint64_t> generation_{0};
  std::mutex sync_mutex_;
  std::condition_variable sync_cv_;
  std::atomic<uint64_t> synced_{0};  // visible_writes_ as of the last completed WAL sync
  bool syncing_ = false;
  Subscribers subscribers_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<ReadConnection>> idle_readers_;  // query-only, not in use
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& path) {
  return std::make_unique<SqliteStore>(path);
}

}  // namespace byoc::store
