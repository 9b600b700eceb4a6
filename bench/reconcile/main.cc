// bench/reconcile: how many reconciles a second the management plane's
// control loop gets through on each store, side by side in one run.
//
//   reconcile_bench [--environments N] [--rounds R]
//
// Each scenario stores N environments (PENDING, with their create operation,
// as POST /v1/environments does), queues them all on every runner, and times
// until every one is READY and its operation succeeded. The runners are the
// server's own (controllers::Runner, 2 workers, leases in the store) driving
// the real EnvironmentController against an in-memory cloud that accepts a
// create and is ready at the next look. Scenarios:
//   sqlite      one server on SQLite (the embedded default)
//   pg-1        one server on PostgreSQL (a cluster this bench starts)
//   pg-2        two servers on the same PostgreSQL database: two runners, each
//               on its own Store (connections, listener), both given every key;
//               the store's leases decide who reconciles what
// A reconcile here is one Reconciler::reconcile() call (about 2 per
// environment) with its lease transaction(s). On one 2-core machine, two
// servers show the overhead of coordination, not scale-out: both compete for
// the same cores and the same database.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/clock.h"
#include "controllers/environment_controller.h"
#include "controllers/runner.h"
#include "model/objects.h"
#include "store/store.h"
#include "testing/postgres.h"
#include "testing/testing.h"

namespace byoc::bench {
namespace {
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// A cloud that accepts every action at once and is ready at the next look.
class InstantCloud final : public cloud::CloudDriver {
 public:
  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override { return {"provision"}; }
  cloud::Observation observe(const model::Environment& e) override {
    std::lock_guard lock(mutex_);
    cloud::Observation o;
    auto it = tokens_.find(e.id);
    o.exists = o.up_to_date = o.ready = it != tokens_.end();
    o.last_token = it != tokens_.end() ? it->second : "";
    o.look_again = 1ms;
    return o;
  }
  std::string create(const model::Environment& e, const std::string& token) override {
    std::lock_guard lock(mutex_);
    if (!tokens_.emplace(e.id, token).second && tokens_[e.id] != token) ++duplicate_creates;
    return "";
  }
  void update(const model::Environment&, const std::string&) override {}
  void remove(const model::Environment&, const std::string&) override {}
  int duplicate_creates = 0;

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> tokens_;
};

// Counts the calls it passes on.
class Counting final : public controllers::Reconciler {
 public:
  explicit Counting(controllers::Reconciler& inner) : inner_(inner) {}
  controllers::ReconcileResult reconcile(const std::string& id) override {
    auto r = inner_.reconcile(id);
    calls.fetch_add(1);
    return r;
  }
  std::atomic<int64_t> calls{0};

 private:
  controllers::Reconciler& inner_;
};

void seed(store::Store& store, int environments, const std::string& prefix) {
  store.transact([&](store::Transaction& tx) {
    for (int i = 0; i < environments; ++i) {
      model::Environment e;
      e.id = prefix + std::to_string(i);
      e.organization = "default";
      e.name = e.id;
      e.cloud = "instant";
      e.region = "local";
      e.cidr = "10.0.0.0/16";
      e.state = model::kPending;
      e.created_at = e.updated_at = 1;
      tx.environments().put(e);
      model::Operation op;
      op.id = "op-" + e.id;
      op.kind = "environment.create";
      op.environment_id = e.id;
      op.environment_name = e.name;
      op.steps = {{"store", "done"}, {"provision", "running"}};
      op.created_at = op.updated_at = 1;
      tx.operations().put(op);
    }
  });
}

struct Result {
  double seconds = 0;
  int64_t reconciles = 0;
  int duplicates = 0;
};

// N environments to READY with `servers` runners, each on its own Store from `open`.
Result run(const std::function<std::unique_ptr<store::Store>()>& open, int servers, int environments,
           const std::string& prefix) {
  std::vector<std::unique_ptr<store::Store>> stores;
  for (int s = 0; s < servers; ++s) stores.push_back(open());
  seed(*stores[0], environments, prefix);
  SystemClock clock;
  InstantCloud cloud;
  std::vector<std::unique_ptr<controllers::EnvironmentController>> controllers;
  std::vector<std::unique_ptr<Counting>> counters;
  std::vector<std::unique_ptr<controllers::Runner>> runners;
  for (int s = 0; s < servers; ++s) {
    controllers.push_back(std::make_unique<controllers::EnvironmentController>(
        *stores[s], clock, std::map<std::string, cloud::CloudDriver*>{{"instant", &cloud}}));
    counters.push_back(std::make_unique<Counting>(*controllers.back()));
    runners.push_back(std::make_unique<controllers::Runner>(*stores[s], clock, "server-" + std::to_string(s), 2));
    runners.back()->add("environment", counters.back().get());
  }
  auto started = Steady::now();
  for (auto& r : runners) {
    r->start(std::chrono::hours(1));
    for (int i = 0; i < environments; ++i) r->enqueue("environment/" + prefix + std::to_string(i));
  }
  auto ready = [&] {
    int64_t n = 0;
    stores[0]->read([&](store::Transaction& tx) {
      n = static_cast<int64_t>(tx.operations().running("").size());
    });
    return n == 0;
  };
  while (!ready()) std::this_thread::sleep_for(5ms);
  Result out;
  out.seconds = std::chrono::duration<double>(Steady::now() - started).count();
  for (auto& r : runners) r->stop();
  for (auto& c : counters) out.reconciles += c->calls.load();
  out.duplicates = cloud.duplicate_creates;
  return out;
}

int main(int argc, char** argv) {
  CLI::App app{"bench/reconcile: environments to READY on SQLite and PostgreSQL, one and two servers"};
  int environments = 2000, rounds = 3;
  app.add_option("--environments", environments)->check(CLI::Range(1, 1'000'000));
  app.add_option("--rounds", rounds)->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // the controller logs every create

  testing::TempDir dir("byoc-bench-reconcile");
  testing::PostgresCluster cluster = testing::PostgresCluster::start();
  struct StopCluster {
    testing::PostgresCluster& c;
    ~StopCluster() { c.stop(); }
  } stop_cluster{cluster};

  std::map<std::string, std::vector<Result>> results;
  const std::vector<std::string> order = {"sqlite", "pg-1", "pg-2"};
  for (int round = 0; round < rounds; ++round) {
    for (const auto& scenario : order) {
      std::string name = scenario + "-" + std::to_string(round);
      Result r;
      if (scenario == "sqlite") {
        auto path = dir.path() / (name + ".db");
        r = run([&] { return store::open_sqlite_store(path); }, 1, environments, "e");
      } else {
        std::string db = "bench_" + std::to_string(round) + "_" + scenario.substr(3);
        testing::postgres_exec(cluster.uri(), "CREATE DATABASE " + db);
        std::string uri = cluster.uri(db);
        r = run([&] { return store::open_postgres_store(uri); }, scenario == "pg-2" ? 2 : 1, environments, "e");
        testing::postgres_exec(cluster.uri(), "DROP DATABASE " + db + " WITH (FORCE)");
      }
      std::printf("round %d %-7s %6d environments READY in %6.2f s: %6lld reconciles, %7.0f reconciles/s%s\n",
                  round + 1, scenario.c_str(), environments, r.seconds, static_cast<long long>(r.reconciles),
                  static_cast<double>(r.reconciles) / r.seconds,
                  r.duplicates ? " DUPLICATE CREATES" : "");
      std::fflush(stdout);
      results[scenario].push_back(r);
    }
  }
  auto median_rate = [&](const std::string& s) {
    std::vector<double> v;
    for (const auto& r : results[s]) v.push_back(static_cast<double>(r.reconciles) / r.seconds);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  double base = median_rate("sqlite");
  std::printf("\nmedian of %d rounds, %d environments, %u cores (two servers share them: overhead, not scale-out)\n",
              rounds, environments, std::thread::hardware_concurrency());
  std::printf("%-8s %12s %16s\n", "store", "reconciles/s", "ratio to sqlite");
  for (const auto& s : order) std::printf("%-8s %12.0f %16.2f\n", s.c_str(), median_rate(s), median_rate(s) / base);
  return 0;
}

}  // namespace
}  // namespace byoc::bench

int main(int argc, char** argv) { return byoc::bench::main(argc, argv); }
