#include "render/zookeeper_config.h"

#include <fmt/format.h>

#include <iterator>

#include "base/error.h"
#include "render/validate.h"

namespace byoc::render {
namespace {

template <typename... Args>
void emit(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  out += '\n';
}

void check(const ZooKeeperConfig& c) {
  require_absolute_dir(c.data_dir, "data_dir");
  if (!is_ip_or_cidr(c.client_address) || c.client_address.find('/') != std::string::npos)
    throw Error::Invalid("invalid_config_value", "client_address must be an address", "client_address");
  require_port(c.client_port, "client_port");
  if (c.tick_time_ms < 100 || c.tick_time_ms > 60'000)
    throw Error::Invalid("invalid_config_value", "tick_time_ms must be within 100..60000", "tick_time_ms");
  if (c.max_client_connections < 0)
    throw Error::Invalid("invalid_config_value", "max_client_connections must be >= 0",
                         "max_client_connections");
  if (c.snapshots_retained < 3)
    throw Error::Invalid("invalid_config_value", "snapshots_retained must be >= 3", "snapshots_retained");
  if (c.purge_interval_hours < 1)
    throw Error::Invalid("invalid_config_value", "purge_interval_hours must be >= 1", "purge_interval_hours");
}

}  // namespace

std::string render_zoo_cfg(const ZooKeeperConfig& c) {
  check(c);
  std::string out;
  emit(out, "# Rendered by byoc: a standalone ZooKeeper for this environment's replicated services.");
  emit(out, "tickTime={}", c.tick_time_ms);
  emit(out, "dataDir={}", c.data_dir);
  emit(out, "clientPortAddress={}", c.client_address);
  emit(out, "clientPort={}", c.client_port);
  emit(out, "maxClientCnxns={}", c.max_client_connections);
  emit(out, "admin.enableServer=false");
  emit(out, "4lw.commands.whitelist=ruok");
  emit(out, "autopurge.snapRetainCount={}", c.snapshots_retained);
  emit(out, "autopurge.purgeInterval={}", c.purge_interval_hours);
  // Standalone: no quorum ports, no dynamic reconfiguration.
  emit(out, "standaloneEnabled=true");
  emit(out, "reconfigEnabled=false");
  return out;
}

std::string render_zookeeper_log4j(const std::string& log_file) {
  require_absolute_path(log_file, "log_file");
  std::string out;
  emit(out, "# Rendered by byoc.");
  emit(out, "log4j.rootLogger=INFO, FILE");
  emit(out, "log4j.appender.FILE=org.apache.log4j.RollingFileAppender");
  emit(out, "log4j.appender.FILE.File={}", log_file);
  emit(out, "log4j.appender.FILE.MaxFileSize=10MB");
  emit(out, "log4j.appender.FILE.MaxBackupIndex=3");
  emit(out, "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout");
  emit(out, "log4j.appender.FILE.layout.ConversionPattern=%d{{ISO8601}} %-5p [%t:%C{{1}}@%L] - %m%n");
  return out;
}

}  // namespace byoc::render
