// Data-plane benchmark: from a cold `local` environment (agent connected, no
// ZooKeeper, no service), the time from `byoc service create --wait` of a
// 1 x 2 service to its first SELECT 1 through the endpoint, against a plain
// bash script that starts the same processes (ZooKeeper, two
// clickhouse-servers, nginx, same command lines and configs) and waits for
// their first answers — measured side by side, alternating which goes first,
// in one run. Then the resident memory of what each environment runs besides
// ClickHouse (agent, ZooKeeper, endpoint).
//
//   build/bench/data_plane/data_plane_bench [--rounds N] [--byoc build/src/byoc] [--verbose]
// --verbose prints when each process of the script answered and keeps the scratch directory.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
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
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  bool verbose = false;
  fs::path byoc = default_byoc();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--verbose")) {
      verbose = true;
    } else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--byoc") && i + 1 < argc) {
      byoc = fs::absolute(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--rounds N] [--byoc PATH] [--verbose]\n", argv[0]);
      return 2;
    }
  }
  if (!fs::exists(byoc)) {
    std::fprintf(stderr, "error: %s not found (build the byoc target, or pass --byoc)\n", byoc.c_str());
    return 2;
  }
  install_interrupt_handlers();
  fs::path scratch = files::make_temp_dir("byoc-bench-data-plane");
  int status = 0;
  try {
    std::printf("# Data plane: cold start of a 1 x 2 service (ZooKeeper included), %d round(s)\n\n", rounds);
    std::fflush(stdout);
    ByocStack stack(byoc, scratch / "byoc");
    BaselineScript script(scratch / "script");
    std::vector<double> byoc_ms, cli_ms, apply_ms, script_ms, ratios;
    EnvironmentMemory memory;
    std::printf(
        "| round | byoc create --wait -> SELECT 1 (ms) | of which CLI --wait (ms) "
        "| of which runtime apply (ms) | plain script (ms) | ratio |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (int round = 1; round <= rounds; ++round) {
      if (!stack.cold())
        throw Error::Internal("the environment is not cold before round " + std::to_string(round));
      auto measure_script = [&] {
        double ms = static_cast<double>(script.run().count());
        if (verbose) std::fprintf(stderr, "plain script:\n%s", script.last_output().c_str());
        script.stop();
        return ms;
      };
      double s = 0;
      if (round % 2 == 0) s = measure_script();  // alternate which side runs first
      const std::string name = "bench" + std::to_string(round);
      CreateResult created = stack.create_service(name, 1, 2);
      if (round == rounds) memory = stack.memory();
      stack.delete_service(name);
      if (round % 2 == 1) s = measure_script();
      double b = static_cast<double>(created.until_first_select.count());
      byoc_ms.push_back(b);
      cli_ms.push_back(static_cast<double>(created.cli_wait.count()));
      apply_ms.push_back(static_cast<double>(created.runtime_apply.count()));
      script_ms.push_back(s);
      ratios.push_back(b / s);
      std::printf("| %d | %.0f | %.0f | %.0f | %.0f | %.2f |\n", round, b, cli_ms.back(), apply_ms.back(), s,
                  b / s);
      std::fflush(stdout);
    }
    double ratio = median(byoc_ms) / median(script_ms);
    std::printf("| median | %.0f | %.0f | %.0f | %.0f | **%.2f** |\n\n", median(byoc_ms), median(cli_ms),
                median(apply_ms), median(script_ms), ratio);
    std::printf("ratio of medians: %.2fx (goal <= 1.5x) -> %s\n", ratio, ratio <= 1.5 ? "met" : "NOT met");
    std::printf(
        "the agent's runtime alone (ZooKeeper, chroot, replicas, endpoint; no CLI, server or sync): "
        "%.2fx\n\n",
        median(apply_ms) / median(script_ms));

    std::printf("# Resident memory per environment, besides ClickHouse (1 x 2 service running)\n\n");
    std::printf("| process | RSS (MiB) |\n|---|---|\n");
    std::printf("| agent | %.1f |\n", mib(memory.agent));
    std::printf("| ZooKeeper (java) | %.1f |\n", mib(memory.zookeeper));
    std::printf("| endpoint (nginx, %d processes) | %.1f |\n", memory.endpoint_processes,
                mib(memory.endpoints));
    std::printf("| **total, not ClickHouse** | **%.1f** |\n", mib(memory.not_clickhouse()));
    std::printf("| (ClickHouse, %d replicas) | (%.1f) |\n", memory.clickhouse_processes,
                mib(memory.clickhouse));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n(kept %s for inspection)\n", e.what(), scratch.c_str());
    return 1;
  }
  if (verbose) {
    std::fprintf(stderr, "kept %s (logs of the server, agent and every process)\n", scratch.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
  return status;
}
