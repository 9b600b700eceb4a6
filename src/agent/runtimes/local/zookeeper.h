// The environment's ZooKeeper as a process of the local runtime: its files
// (zoo.cfg, log4j.properties, persisted port) under <root>/_zookeeper and the
// command line the supervisor runs it with — Debian's ZooKeeper 3.8 jar run
// directly by java with a bounded heap, never Debian's /etc/zookeeper setup.
// The runtime decides when it runs (while a replicated service exists).
// Not thread-safe: the runtime serialises calls.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/runtimes/local/layout.h"
#include "agent/runtimes/local/supervisor.h"

namespace byoc::agent::local {

struct ZooKeeperOptions {
  std::filesystem::path java_binary = "/usr/bin/java";
  // ZooKeeper's jar (its manifest's Class-Path names its other dependencies),
  // an SLF4J binding and log4j 1.2 for that binding. The conf dir is put first.
  std::vector<std::filesystem::path> classpath = {
      "/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"};
  int heap_mib = 128;  // -Xmx: a few services' metadata fits many times over
};

// The persisted client port, nullopt if none was picked yet. Throws
// byoc::Error kInternal when the file is malformed.
std::optional<int> load_zookeeper_port(const ZooKeeperLayout& layout);
void save_zookeeper_port(const ZooKeeperLayout& layout, int port);

// Creates the directories (0700) and writes zoo.cfg and log4j.properties for
// `port` when they differ. ZooKeeper reads them only when it starts.
void write_zookeeper_files(const ZooKeeperLayout& layout, int port);

// The argument that identifies our ZooKeeper among processes: its zoo.cfg.
std::string zookeeper_marker(const ZooKeeperLayout& layout);

// How the supervisor runs it (before_start left to the caller).
ProcessSpec zookeeper_process(const ZooKeeperLayout& layout, const ZooKeeperOptions& options);

inline constexpr const char* kJavaComm = "java";

}  // namespace byoc::agent::local
