// byoc_test_postgres start|stop STATE_FILE: the CTest fixture around every
// test that runs on PostgreSQL (postgres.h). `start` starts a cluster and
// records it in STATE_FILE (a cluster recorded there that still answers is
// kept); `stop` stops the recorded cluster and removes its directory and
// STATE_FILE.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "testing/postgres.h"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::fprintf(stderr, "usage: byoc_test_postgres start|stop STATE_FILE\n");
    return 2;
  }
  std::filesystem::path state = argv[2];
  try {
    byoc::testing::PostgresCluster cluster;
    bool running = byoc::testing::PostgresCluster::adopt(state, &cluster);
    if (std::string(argv[1]) == "start") {
      if (!running) {
        cluster = byoc::testing::PostgresCluster::start();
        cluster.save(state);
      }
      std::printf("PostgreSQL for the tests: %s\n", cluster.uri().c_str());
      return 0;
    }
    if (running) cluster.stop();
    std::error_code ec;
    std::filesystem::remove(state, ec);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "byoc_test_postgres: %s\n", e.what());
    return 1;
  }
}
