#include "render/zookeeper_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"

namespace byoc::render {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ZooKeeperConfig config() {
  ZooKeeperConfig c;
  c.data_dir = "/srv/byoc/_zookeeper/data/";
  c.client_port = 21811;
  return c;
}

// The value of `key=` on its own line, or "" if absent.
std::string value_of(const std::string& cfg, const std::string& key) {
  auto at = cfg.find("\n" + key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 2;
  return cfg.substr(at, cfg.find('\n', at) - at);
}

TEST(ZooKeeperConfig, ListensOnLoopbackOnlyWithItsOwnDataDir) {
  std::string cfg = render_zoo_cfg(config());
  EXPECT_EQ(value_of(cfg, "clientPortAddress"), "127.0.0.1");
  EXPECT_EQ(value_of(cfg, "clientPort"), "21811");
  EXPECT_EQ(value_of(cfg, "dataDir"), "/srv/byoc/_zookeeper/data/");
  // Jetty's AdminServer would bind 0.0.0.0:8080.
  EXPECT_EQ(value_of(cfg, "admin.enableServer"), "false");
  // Only `ruok` of the four-letter words, for readiness.
  EXPECT_EQ(value_of(cfg, "4lw.commands.whitelist"), "ruok");
  EXPECT_THAT(cfg, Not(HasSubstr("/tmp/zookeeper")));
  EXPECT_THAT(cfg, Not(HasSubstr("server.")));  // standalone: no quorum ports
}

TEST(ZooKeeperConfig, AcceptsEveryReplicaFromLoopbackAndPurgesOldSnapshots) {
  std::string cfg = render_zoo_cfg(config());
  EXPECT_EQ(value_of(cfg, "maxClientCnxns"), "0");
  EXPECT_EQ(value_of(cfg, "autopurge.snapRetainCount"), "3");
  EXPECT_EQ(value_of(cfg, "autopurge.purgeInterval"), "1");
  EXPECT_EQ(value_of(cfg, "tickTime"), "2000");
}

TEST(ZooKeeperConfig, LogsToTheGivenFileOnly) {
  std::string props = render_zookeeper_log4j("/srv/byoc/_zookeeper/logs/zookeeper.log");
  EXPECT_THAT(props, HasSubstr("log4j.rootLogger=INFO, FILE\n"));
  EXPECT_THAT(props, HasSubstr("log4j.appender.FILE.File=/srv/byoc/_zookeeper/logs/zookeeper.log\n"));
  EXPECT_THAT(props, HasSubstr("log4j.appender.FILE=org.apache.log4j.RollingFileAppender\n"));
  EXPECT_THAT(props, HasSubstr("%d{ISO8601}"));
  EXPECT_THAT(props, Not(HasSubstr("CONSOLE")));
}

TEST(ZooKeeperConfig, RefusesInputsThatWouldBreakTheFile) {
  auto invalid = [](auto change, const std::string& field) {
    ZooKeeperConfig c = config();
    change(c);
    try {
      render_zoo_cfg(c);
      ADD_FAILURE() << "accepted a bad " << field;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
      EXPECT_EQ(e.field(), field) << e.what();
    }
  };
  invalid([](ZooKeeperConfig& c) { c.data_dir = "/srv/data"; }, "data_dir");
  invalid([](ZooKeeperConfig& c) { c.data_dir = "/srv/data\nclientPort=1/"; }, "data_dir");
  invalid([](ZooKeeperConfig& c) { c.client_port = 0; }, "client_port");
  invalid([](ZooKeeperConfig& c) { c.client_address = "0.0.0.0/0"; }, "client_address");
  invalid([](ZooKeeperConfig& c) { c.client_address = "localhost"; }, "client_address");
  invalid([](ZooKeeperConfig& c) { c.tick_time_ms = 0; }, "tick_time_ms");
  invalid([](ZooKeeperConfig& c) { c.max_client_connections = -1; }, "max_client_connections");
  invalid([](ZooKeeperConfig& c) { c.snapshots_retained = 2; }, "snapshots_retained");
  EXPECT_THROW(render_zookeeper_log4j("logs/zookeeper.log"), Error);
  EXPECT_THROW(render_zookeeper_log4j("/srv/zk.log\nlog4j.rootLogger=DEBUG"), Error);
}

}  // namespace
}  // namespace byoc::render
