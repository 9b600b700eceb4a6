#include "agent/runtimes/local/zookeeper.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"
#include "render/validate.h"
#include "render/zookeeper_config.h"

namespace byoc::agent::local {
namespace fs = std::filesystem;
namespace {

void write_if_changed(const fs::path& path, const std::string& content) {
  if (files::read_if_exists(path) == content) return;
  files::write_atomic(path, content, 0600);
}

}  // namespace

std::string zookeeper_chroot(const std::string& service) { return "/byoc/" + service; }

std::optional<int> load_zookeeper_port(const ZooKeeperLayout& layout) {
  auto text = files::read_if_exists(layout.port_file());
  if (!text) return std::nullopt;
  try {
    int port = nlohmann::json::parse(*text).at("client").get<int>();
    if (port < 1 || port > 65535) throw Error::Internal("port out of range");
    return port;
  } catch (const nlohmann::json::exception& e) {
    throw Error::Internal("malformed " + layout.port_file().string() + ": " + e.what());
  }
}

void save_zookeeper_port(const ZooKeeperLayout& layout, int port) {
  files::ensure_dir(layout.dir(), 0700);
  files::write_atomic(layout.port_file(), nlohmann::json{{"client", port}}.dump() + "\n", 0600);
}

void write_zookeeper_files(const ZooKeeperLayout& layout, int port) {
  for (const fs::path& dir : {layout.dir(), layout.conf_dir(), layout.data_dir(), layout.logs()})
    files::ensure_dir(dir, 0700);
  render::ZooKeeperConfig c;
  c.data_dir = layout.data_dir().string() + "/";
  c.client_port = port;
  write_if_changed(layout.zoo_cfg(), render::render_zoo_cfg(c));
  write_if_changed(layout.log4j_properties(), render::render_zookeeper_log4j(layout.log_file().string()));
}

std::string zookeeper_marker(const ZooKeeperLayout& layout) { return layout.zoo_cfg().string(); }

ProcessSpec zookeeper_process(const ZooKeeperLayout& layout, const ZooKeeperOptions& options) {
  std::string classpath = layout.conf_dir().string();
  for (const auto& jar : options.classpath) {
    render::require_absolute_path(jar.string(), "zookeeper classpath");
    classpath += ":" + jar.string();
  }
  ProcessSpec p;
  p.argv = {options.java_binary.string(), "-Xmx" + std::to_string(options.heap_mib) + "m", "-Xms16m",
            // One collector thread and no JIT tiers beyond C1: a small, quick-starting JVM.
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            // No /tmp/hsperfdata_<user> file: nothing of ours outside our directory.
            "-XX:-UsePerfData", "-XX:ErrorFile=" + (layout.logs() / "hs_err_%p.log").string(),
            "-Djava.awt.headless=true", "-Dzookeeper.jmx.log4j.disable=true", "-cp", classpath,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", zookeeper_marker(layout)};
  p.cwd = layout.dir();
  p.output = layout.output();
  p.pid_file = layout.pid_file();
  p.cmdline_marker = zookeeper_marker(layout);
  p.comm = kJavaComm;
  return p;
}

}  // namespace byoc::agent::local
