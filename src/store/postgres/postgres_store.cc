// PostgreSQL implementation of store::Store, for several servers on one
// database.
//
// Transactions are REPEATABLE READ (snapshot isolation): each sees one
// snapshot, and of two concurrent transactions writing the same row the
// second fails and is run again (first updater wins) — what the callers'
// read-modify-write code, written for SQLite's single writer, needs: every
// change it makes writes the rows its decision rests on (the environment's
// revision, the service, the operation), and what must exist once has a
// unique key. (SERIALIZABLE was tried: its predicate locks sit on whole index
// pages, so under load unrelated environments' creates and syncs failed one
// another until the attempts ran out.) A transaction that loses a conflict
// (or finds its connection broken before COMMIT) is rolled back and run
// again, up to kAttempts times, after a short random pause. A connection
// that breaks during COMMIT leaves the outcome unknown: that is an error
// (kUnavailable), never a silent second run.
//
// Reads run REPEATABLE READ READ ONLY: one snapshot, no waiting, and every
// write refused by the database itself.
//
// Connections: a pool of at most kConnections (readers and writers alike),
// opened on demand; a caller waits at most kPoolWait for one. A broken one is
// dropped, not returned.
//
// Generation (store.h): every committing transaction that wrote anything
// also notifies the channel; each server's Listener counts the notifications
// of all servers, this one's included. While the listener is cut off,
// generation() changes on every call, so no cache serves anything.
// current_generation() sends a barrier, a notification on this store's own
// channel, and waits for the listener to hear it: notifications arrive in
// commit order, so by then every commit that returned before the call has
// been counted. Callers waiting at once share a barrier, and one is never
// more than kBarrierWait away from an answer (else: a new generation).
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "base/crypto.h"
#include "base/error.h"
#include "store/postgres/leases.h"
#include "store/postgres/listener.h"
#include "store/postgres/session.h"
#include "store/sql/migrations.h"
#include "store/sql/transaction.h"
#include "store/store.h"
#include "store/subscribers.h"

namespace byoc::store {
namespace {
using postgres::Connection;
using postgres::RetryTransaction;
using namespace std::chrono_literals;

constexpr size_t kConnections = 16;
constexpr auto kPoolWait = 30s;
constexpr int kAttempts = 12;
// A uniqueness violation is run again this often (a concurrent insert of the
// same key is then visible), then answered as a conflict.
constexpr int kUniqueViolationAttempts = 2;
constexpr auto kBarrierWait = 2s;
// pg_advisory_lock key of schema migrations ("byoc").
constexpr int64_t kMigrationLock = 0x62796f63;
const std::string kNotifyAndCommit = std::string("SELECT pg_notify('") + postgres::kChannel + "', ''); COMMIT";

bool committed(const PGresult* result) { return std::strcmp(PQcmdStatus(const_cast<PGresult*>(result)), "COMMIT") == 0; }

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(std::string uri)
      : uri_(std::move(uri)), barrier_channel_("byoc_barrier_" + crypto::hex(crypto::random_bytes(8))) {
    migrate();
    listener_ = std::make_unique<postgres::Listener>(
        uri_, std::vector<std::string>{postgres::kChannel, barrier_channel_},
        [this](const std::string& channel, const std::string& payload, int sender) {
          if (channel == barrier_channel_) return barrier_heard(payload);
          on_notification(payload, sender);
        },
        [this] {
          generation_.fetch_add(1);
          subscribers_.deliver("", "");
        });
  }

  ~PostgresStore() override { listener_.reset(); }

  void transact(const std::function<void(Transaction&)>& fn) override {
    std::mt19937 random(std::random_device{}());
    int unique_violations = 0;
    for (int attempt = 1;; ++attempt) {
      Lease conn = take();
      bool commit_sent = false;
      try {
        conn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
        postgres::PgSession session(*conn, false);
        postgres::PgLeases leases(session);
        sql::with_transaction(session, leases, fn);
        bool changed = session.written() > 0 || !session.outbox().empty();
        commit_sent = true;
        // The change's notification goes with the COMMIT, in one round trip,
        // to every listening server, this one's too.
        postgres::Result result = conn->exec(changed ? kNotifyAndCommit : "COMMIT");
        if (!committed(result.get())) throw RetryTransaction("the transaction was rolled back", false);
        give_back(std::move(conn));
        if (changed) generation_.fetch_add(1);
        for (const auto& [topic, message] : session.outbox()) subscribers_.deliver(topic, message);
        return;
      } catch (const RetryTransaction& e) {
        rollback(std::move(conn));
        if (e.connection_lost) drop_idle();
        if (e.connection_lost && commit_sent)
          throw Error::Unavailable("the store connection broke during COMMIT; the change may have been made");
        // Still there after new attempts: not a race but a real duplicate.
        if (e.unique_violation && ++unique_violations > kUniqueViolationAttempts)
          throw Error::Conflict("conflict", e.what());
        if (attempt >= kAttempts)
          throw Error::Unavailable(std::string("the store is too busy (") + e.what() + ")");
        pause_before(attempt, random);
      } catch (...) {
        rollback(std::move(conn));
        throw;
      }
    }
  }

  void read(const std::function<void(Transaction&)>& fn) override {
    std::mt19937 random(std::random_device{}());
    for (int attempt = 1;; ++attempt) {
      Lease conn = take();
      try {
        conn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        postgres::PgSession session(*conn, true);
        postgres::PgLeases leases(session);
        sql::with_transaction(session, leases, fn);
        conn->exec("COMMIT");
        give_back(std::move(conn));
        return;
      } catch (const RetryTransaction& e) {
        rollback(std::move(conn));
        if (e.connection_lost) drop_idle();
        // A read has no effect: running it again is always safe.
        if (attempt >= kAttempts) throw Error::Unavailable(std::string("the store is unavailable (") + e.what() + ")");
        pause_before(attempt, random);
      } catch (...) {
        rollback(std::move(conn));
        throw;
      }
    }
  }

  uint64_t generation() const override {
    if (!listener_ || !listener_->listening()) return generation_.fetch_add(1) + 1;
    return generation_.load();
  }

  bool generation_is_current() const override { return false; }

  uint64_t current_generation() override {
    std::unique_lock lock(barrier_mutex_);
    // A barrier sent after this call began: one in flight now may have left before it.
    const uint64_t needed = barriers_sent_ + 1;
    auto deadline = std::chrono::steady_clock::now() + kBarrierWait;
    // Without an answer in time: a generation no cache holds.
    auto unknown = [this] { return generation_.fetch_add(1) + 1; };
    while (barriers_heard_ < needed) {
      if (!listener_->listening()) return unknown();
      if (!barrier_in_flight_) {
        barrier_in_flight_ = true;
        uint64_t id = ++barriers_sent_;
        lock.unlock();
        bool sent = send_barrier(id);
        lock.lock();
        if (!sent) {
          barrier_in_flight_ = false;
          barrier_cv_.notify_all();
          return unknown();
        }
        continue;
      }
      if (barrier_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        barrier_in_flight_ = false;  // lost (a listener that reconnected): the next caller sends another
        return unknown();
      }
    }
    return generation();
  }

  void subscribe(Subscriber subscriber) override { subscribers_.add(std::move(subscriber)); }
  void unsubscribe_all() override { subscribers_.clear(); }

  int schema_version() override {
    int version = 0;
    Lease conn = take();
    try {
      postgres::Result r = conn->exec("SELECT COALESCE(MAX(version), 0) FROM schema_version");
      version = std::atoi(PQgetvalue(r.get(), 0, 0));
    } catch (...) {
      rollback(std::move(conn));
      throw;
    }
    give_back(std::move(conn));
    return version;
  }

 private:
  // Conflicting transactions, each run again after a random pause, rarely meet again.
  static void pause_before(int attempt, std::mt19937& random) {
    std::uniform_int_distribution<int> pause(0, std::min(100, 1 << attempt));
    std::this_thread::sleep_for(std::chrono::milliseconds(pause(random)));
  }

  using Lease = std::unique_ptr<Connection>;

  Lease take() {
    std::unique_lock lock(pool_mutex_);
    if (!pool_cv_.wait_for(lock, kPoolWait, [this] { return !idle_.empty() || open_ < kConnections; }))
      throw Error::Unavailable("no store connection came free within 30 s");
    if (!idle_.empty()) {
      Lease conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
    lock.unlock();
    try {
      auto conn = std::make_unique<Connection>(uri_);
      lock.lock();
      own_backends_.insert(conn->backend_pid());
      return conn;
    } catch (...) {
      lock.lock();
      --open_;
      pool_cv_.notify_one();
      throw;
    }
  }

  void give_back(Lease conn) {
    std::lock_guard lock(pool_mutex_);
    if (conn && conn->ok()) {
      idle_.push_back(std::move(conn));
    } else {
      drop_locked(std::move(conn));
    }
    pool_cv_.notify_one();
  }

  void drop_locked(Lease conn) {
    if (conn) own_backends_.erase(conn->backend_pid());
    --open_;
  }

  // A connection broke: those idle beside it most likely did too (the
  // database restarted or failed over). Dropped, so the next attempt connects.
  void drop_idle() {
    std::lock_guard lock(pool_mutex_);
    while (!idle_.empty()) {
      drop_locked(std::move(idle_.back()));
      idle_.pop_back();
    }
    pool_cv_.notify_all();
  }

  // Ends whatever transaction is open and returns the connection (or drops it if broken).
  void rollback(Lease conn) {
    if (conn && conn->ok()) {
      postgres::Result r(PQexec(conn->raw(), "ROLLBACK"));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        std::lock_guard lock(pool_mutex_);
        drop_locked(std::move(conn));
        pool_cv_.notify_one();
        return;
      }
    }
    give_back(std::move(conn));
  }

  // Autocommitted without waiting for the WAL to reach disk: it orders,
  // it changes nothing.
  bool send_barrier(uint64_t id) {
    try {
      Lease conn = take();
      try {
        conn->exec("BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_notify('" + barrier_channel_ + "', '" +
                   std::to_string(id) + "'); COMMIT");
      } catch (...) {
        rollback(std::move(conn));
        throw;
      }
      give_back(std::move(conn));
      return true;
    } catch (const std::exception& e) {
      spdlog::warn("store: a generation barrier failed: {}", e.what());
      return false;
    }
  }

  void barrier_heard(const std::string& payload) {
    uint64_t id = std::strtoull(payload.c_str(), nullptr, 10);
    std::lock_guard lock(barrier_mutex_);
    if (id > barriers_heard_) barriers_heard_ = id;
    if (barriers_heard_ >= barriers_sent_) barrier_in_flight_ = false;
    barrier_cv_.notify_all();
  }

  void on_notification(const std::string& payload, int sender) {
    generation_.fetch_add(1);
    auto space = payload.find(' ');
    if (space == std::string::npos) return;  // a change, nothing published
    {
      // This server's own: delivered already, right after its COMMIT.
      std::lock_guard lock(pool_mutex_);
      if (own_backends_.count(sender)) return;
    }
    subscribers_.deliver(payload.substr(0, space), payload.substr(space + 1));
  }

  // Applies pending migrations, each in its own transaction, under a
  // session advisory lock: servers starting together wait for one another
  // and each migration runs once.
  void migrate() {
    postgres::ConnectionSettings settings;
    settings.lock_timeout_ms = 120'000;  // another server may be migrating
    settings.statement_timeout_ms = 0;    // an index built on a large table takes what it takes
    Connection conn(uri_, settings);
    try {
      conn.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")");
      conn.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT)");
      postgres::Result r = conn.exec("SELECT COALESCE(MAX(version), 0) FROM schema_version");
      int version = std::atoi(PQgetvalue(r.get(), 0, 0));
      const auto& all = sql::migrations();
      if (version > static_cast<int>(all.size()))
        throw Error::Internal("store schema version " + std::to_string(version) +
                              " is newer than this byoc understands (" + std::to_string(all.size()) + ")");
      for (int next = version + 1; next <= static_cast<int>(all.size()); ++next) {
        conn.exec("BEGIN");
        try {
          conn.exec(all[next - 1].text(sql::Dialect::kPostgres));
          conn.exec("INSERT INTO schema_version VALUES (" + std::to_string(next) +
                    ", extract(epoch from now())::bigint)");
          conn.exec("COMMIT");
        } catch (...) {
          PQclear(PQexec(conn.raw(), "ROLLBACK"));
          throw;
        }
        spdlog::info("store: migrated to schema version {}", next);
      }
      conn.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
    } catch (const RetryTransaction& e) {
      throw Error::Unavailable(std::string("store migration failed: ") + e.what());
    }
  }

  const std::string uri_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<Lease> idle_;
  size_t open_ = 0;  // connections out or idle
  std::set<int> own_backends_;  // the backend pids of this pool's connections
  mutable std::atomic<uint64_t> generation_{1};
  const std::string barrier_channel_;  // this store's own
  std::mutex barrier_mutex_;
  std::condition_variable barrier_cv_;
  uint64_t barriers_sent_ = 0;
  uint64_t barriers_heard_ = 0;
  bool barrier_in_flight_ = false;
  Subscribers subscribers_;
  std::unique_ptr<postgres::Listener> listener_;
};

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& uri) { return std::make_unique<PostgresStore>(uri); }

}  // namespace byoc::store
