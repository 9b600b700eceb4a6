// Data-plane benchmark: the cold start of a replicated 1 x 2 service, from
// nothing running (no ZooKeeper, no replica, no endpoint, no directory) to
// an ON CLUSTER CREATE TABLE and a replicated INSERT succeeding through the
// service's TLS endpoint, the row counted on both replicas. Once through byoc
// (`byoc service create --wait` on a local environment whose agent is
// connected, then the queries) and once by hand with the same programs and
// files in the fewest steps (baseline.h); side by side in one process,
// alternating which goes first. Per round: both sides' steps, and where
// byoc's extra time goes (read from its logs); then the resident memory of
// what an environment runs besides ClickHouse. The last line is
// `ratio <x>`: the median over rounds of byoc's time / the baseline's.
//
//   build/bench/data_plane/data_plane_bench [--rounds N] [--byoc build/src/byoc] [--keep] [--baseline-only]
// --keep keeps the scratch directory (logs of the server, agent and every process);
// --baseline-only runs the baseline alone (no byoc server), to look at it.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/files.h"
#include "baseline.h"
#include "byoc_stack.h"
#include "interrupt.h"

using namespace byoc;
using namespace byoc::bench;
namespace fs = std::filesystem;

namespace {

fs::path default_byoc() {
  // Next to this binary in the build tree: build/bench/data_plane -> build/src/byoc.
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return self.parent_path().parent_path().parent_path() / "src" / "byoc";
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

std::optional<long> step_at(const std::vector<Step>& steps, const std::string& prefix) {
  for (const auto& s : steps)
    if (s.what.rfind(prefix, 0) == 0) return s.at_ms;
  return std::nullopt;
}

std::string ms_cell(std::optional<long> v) { return v ? std::to_string(*v) : "?"; }

// The cold start cut into the same six stretches on both sides; byoc's
// extra time is the difference, stretch by stretch.
// The JVM's start: the same process on both sides, and the noisiest part
// (0.4 to 1 s on the shared cores).
constexpr const char* kZooKeeperStart = "ZooKeeper's own start (spawn until it serves)";

struct Stretch {
  const char* what;
  std::optional<long> byoc;
  long baseline;
};

std::optional<long> minus(std::optional<long> a, std::optional<long> b) {
  if (!a || !b) return std::nullopt;
  return *a - *b;
}

std::vector<Stretch> stretches(const std::vector<Step>& byoc, long byoc_cli, long byoc_end, const BaselineRun& b) {
  auto zk = step_at(byoc, "runtime: ZooKeeper spawned");
  auto serving = step_at(byoc, "ZooKeeper: serving");
  auto replicas = step_at(byoc, "runtime: replica 1 spawned");
  auto ready = step_at(byoc, "runtime: READY");
  return {
      {"until ZooKeeper is spawned", zk, b.zookeeper_started.count()},
      {kZooKeeperStart, minus(serving, zk), (b.zookeeper_serves - b.zookeeper_started).count()},
      {"ZooKeeper serves: chroot made, until the replicas are spawned", minus(replicas, serving),
       (b.processes_started - b.zookeeper_serves).count()},
      {"replicas and endpoint start, until ready (baseline: ZooKeeper sessions too)", minus(ready, replicas),
       (b.sessions_up - b.processes_started).count()},
      {"READY reported back, until the CLI exits", minus(byoc_cli, ready), 0},
      {"ON CLUSTER DDL, INSERT, row on both replicas", byoc_end - byoc_cli,
       (b.replicated - b.sessions_up).count()},
  };
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  bool keep = false;
  bool baseline_only = false;  // debugging the baseline: no byoc server at all
  fs::path byoc = default_byoc();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--keep")) {
      keep = true;
    } else if (!std::strcmp(argv[i], "--baseline-only")) {
      baseline_only = true;
    } else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--byoc") && i + 1 < argc) {
      byoc = fs::absolute(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--rounds N] [--byoc PATH] [--keep] [--baseline-only]\n", argv[0]);
      return 2;
    }
  }
  if (!fs::exists(byoc)) {
    std::fprintf(stderr, "error: %s not found (build the byoc target, or pass --byoc)\n", byoc.c_str());
    return 2;
  }
  install_interrupt_handlers();
  // The runtime code the baseline borrows logs its steps at info; the tables are the output.
  spdlog::set_level(spdlog::level::warn);
  fs::path scratch = files::make_temp_dir("byoc-bench-data-plane");
  int status = 0;
  try {
    std::printf(
        "# Data plane: cold start of a 1 x 2 service until ON CLUSTER DDL + a replicated INSERT succeed "
        "through the endpoint, %d round(s)\n\n",
        rounds);
    std::fflush(stdout);
    Baseline baseline(scratch / "baseline");
    if (baseline_only) {
      for (int round = 1; round <= rounds; ++round) {
        BaselineRun b = baseline.run();
        baseline.stop();
        std::printf("baseline round %d: ZooKeeper serves %ld, chroot %ld, replicas answer %ld, DDL %ld, end %ld ms\n",
                    round, static_cast<long>(b.zookeeper_serves.count()), static_cast<long>(b.chroot_made.count()),
                    static_cast<long>(b.replicas_answer.count()), static_cast<long>(b.ddl_done.count()),
                    static_cast<long>(b.replicated.count()));
        std::fflush(stdout);
      }
      return 0;
    }
    ByocStack stack(byoc, scratch / "byoc");
    std::vector<double> byoc_ms, cli_ms, baseline_ms, ratios, equalised;
    std::map<std::string, std::vector<double>> extra;  // by stretch
    std::vector<std::string> stretch_order;
    std::map<std::string, std::vector<double>> byoc_part, baseline_part;
    EnvironmentMemory memory;
    for (int round = 1; round <= rounds; ++round) {
      if (!stack.cold())
        throw Error::Internal("the environment is not cold before round " + std::to_string(round));
      BaselineRun b;
      auto measure_baseline = [&] {
        b = baseline.run();
        baseline.stop();
      };
      if (round % 2 == 0) measure_baseline();  // alternate which side runs first
      ByocRun r = stack.cold_start("bench" + std::to_string(round));
      if (round == rounds) memory = stack.memory();
      stack.delete_service(r.service);
      std::vector<Step> steps = stack.timeline(r);
      if (round % 2 == 1) measure_baseline();

      const double bt = static_cast<double>(r.proof.replicated.count());
      const double st = static_cast<double>(b.replicated.count());
      byoc_ms.push_back(bt);
      cli_ms.push_back(static_cast<double>(r.cli_done.count()));
      baseline_ms.push_back(st);
      ratios.push_back(bt / st);
      std::printf("## Round %d (%s first): byoc %.0f ms, baseline %.0f ms, ratio %.2f\n\n", round,
                  round % 2 ? "byoc" : "baseline", bt, st, bt / st);
      std::printf("| byoc step | at (ms) |\n|---|---|\n");
      for (const auto& s : steps) std::printf("| %s | %s |\n", s.what.c_str(), ms_cell(s.at_ms).c_str());
      std::printf("\n| baseline step | at (ms) |\n|---|---|\n");
      std::printf("| ZooKeeper spawned | %ld |\n", static_cast<long>(b.zookeeper_started.count()));
      std::printf("| files written (while it starts) | %ld |\n", static_cast<long>(b.files_written.count()));
      std::printf("| ZooKeeper serves (srvr) | %ld |\n", static_cast<long>(b.zookeeper_serves.count()));
      std::printf("| chroot made | %ld |\n", static_cast<long>(b.chroot_made.count()));
      std::printf("| replicas and nginx spawned | %ld |\n", static_cast<long>(b.processes_started.count()));
      std::printf("| both replicas answer /ping | %ld |\n", static_cast<long>(b.replicas_answer.count()));
      std::printf("| both have their ZooKeeper session | %ld |\n", static_cast<long>(b.sessions_up.count()));
      std::printf("| DDL ON CLUSTER done | %ld |\n", static_cast<long>(b.ddl_done.count()));
      std::printf("| INSERT done | %ld |\n", static_cast<long>(b.insert_done.count()));
      std::printf("| row on both replicas (end) | %ld |\n", static_cast<long>(b.replicated.count()));
      std::printf("\n| stretch | byoc (ms) | baseline (ms) | byoc extra (ms) |\n|---|---|---|---|\n");
      for (const auto& s : stretches(steps, r.cli_done.count(), r.proof.replicated.count(), b)) {
        std::optional<long> more = s.byoc ? std::optional<long>(*s.byoc - s.baseline) : std::nullopt;
        std::printf("| %s | %s | %ld | %s |\n", s.what, ms_cell(s.byoc).c_str(), s.baseline, ms_cell(more).c_str());
        if (!byoc_part.count(s.what)) stretch_order.push_back(s.what);
        if (s.byoc) byoc_part[s.what].push_back(static_cast<double>(*s.byoc));
        baseline_part[s.what].push_back(static_cast<double>(s.baseline));
        if (more) extra[s.what].push_back(static_cast<double>(*more));
      }
      // What the ratio would be had both ZooKeepers taken the baseline's time to start.
      auto zk_start = step_at(steps, "ZooKeeper: serving");
      auto zk_spawn = step_at(steps, "runtime: ZooKeeper spawned");
      if (zk_start && zk_spawn) {
        double byoc_zk = static_cast<double>(*zk_start - *zk_spawn);
        double base_zk = static_cast<double>((b.zookeeper_serves - b.zookeeper_started).count());
        equalised.push_back((bt - byoc_zk + base_zk) / st);
        std::printf("\nratio with ZooKeeper's own start equalised: %.2f\n", equalised.back());
      }
      std::printf("\n");
      std::fflush(stdout);
    }

    std::printf("## All rounds\n\n| round | byoc (ms) | of which create --wait (ms) | baseline (ms) | ratio |\n");
    std::printf("|---|---|---|---|---|\n");
    for (size_t i = 0; i < ratios.size(); ++i)
      std::printf("| %zu | %.0f | %.0f | %.0f | %.2f |\n", i + 1, byoc_ms[i], cli_ms[i], baseline_ms[i], ratios[i]);
    std::printf("| median | %.0f | %.0f | %.0f | %.2f |\n\n", median(byoc_ms), median(cli_ms), median(baseline_ms),
                median(ratios));
    std::printf("| stretch (medians) | byoc (ms) | baseline (ms) | byoc extra (ms) |\n|---|---|---|---|\n");
    for (const auto& what : stretch_order)
      std::printf("| %s | %.0f | %.0f | %.0f |\n", what.c_str(), median(byoc_part[what]), median(baseline_part[what]),
                  median(extra[what]));

    if (!equalised.empty())
      std::printf("\nmedian ratio with ZooKeeper's own start equalised: %.2f\n", median(equalised));
    std::printf("\n# Resident memory per environment, besides ClickHouse (1 x 2 service running)\n\n");
    std::printf("| process | RSS (MiB) |\n|---|---|\n");
    std::printf("| agent | %.1f |\n", mib(memory.agent));
    std::printf("| ZooKeeper (java) | %.1f |\n", mib(memory.zookeeper));
    std::printf("| endpoint (nginx, %d processes) | %.1f |\n", memory.endpoint_processes, mib(memory.endpoints));
    std::printf("| **total, not ClickHouse** | **%.1f** |\n", mib(memory.not_clickhouse()));
    std::printf("| (ClickHouse, %d replicas) | (%.1f) |\n\n", memory.clickhouse_processes, mib(memory.clickhouse));
    std::printf("ratio %.2f\n", median(ratios));
  } catch (const std::exception& e) {
    // The stack and the baseline have stopped what they started by now.
    std::fprintf(stderr, "error: %s\n", e.what());
    status = 1;
  }
  std::fflush(stdout);  // the table first, then what is kept
  if (keep) {
    std::fprintf(stderr, "kept %s (logs of the server, agent and every process)\n", scratch.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
  return status;
}
