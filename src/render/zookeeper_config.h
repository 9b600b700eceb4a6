// Renders the two files a standalone ZooKeeper 3.8 server runs from: zoo.cfg
// and the log4j 1.2 properties that keep its log in its own directory. The
// server listens on one loopback port only: the AdminServer (Jetty, 0.0.0.0:8080
// by default) is off, and of the four-letter words only `ruok` (readiness)
// answers. Pure text generators: no I/O; a bad input throws byoc::Error
// kInvalid naming the field. Thread-safe.
#pragma once

#include <string>

namespace byoc::render {

struct ZooKeeperConfig {
  std::string data_dir;  // absolute, ending in '/': snapshots and transaction logs
  std::string client_address = "127.0.0.1";
  int client_port = 0;
  int tick_time_ms = 2000;
  // Every ClickHouse replica of every service holds a session from 127.0.0.1:
  // ZooKeeper's default of 60 connections per address would refuse the 61st.
  int max_client_connections = 0;  // 0: unlimited
  // Old snapshots and logs are purged every `purge_interval_hours`, keeping
  // the last `snapshots_retained` (ZooKeeper's minimum is 3).
  int snapshots_retained = 3;
  int purge_interval_hours = 1;
};

std::string render_zoo_cfg(const ZooKeeperConfig& config);

// log4j.properties: INFO and up to `log_file` (absolute), rolled at 10 MB, 3 kept.
std::string render_zookeeper_log4j(const std::string& log_file);

}  // namespace byoc::render
