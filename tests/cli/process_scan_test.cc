#include "cli/process_scan.h"

#include <gtest/gtest.h>

namespace byoc::cli {
namespace {

std::string argv(std::initializer_list<std::string> args) {
  std::string out;
  for (const auto& a : args) out += a + std::string(1, '\0');
  return out;
}

TEST(CommandLineMentions, ArgumentsUnderTheDirectory) {
  EXPECT_TRUE(command_line_mentions(argv({"clickhouse-server", "--config-file=/d/server/envs/e1/config.xml"}),
                                    "/d/server"));
  EXPECT_TRUE(command_line_mentions(argv({"byoc", "agent", "--state-dir", "/d/server"}), "/d/server/"));
  // nginx rewrites its argv into one space-separated string
  EXPECT_TRUE(
      command_line_mentions("nginx: master process /usr/sbin/nginx -c /d/server/e1/nginx.conf", "/d/server"));
}

TEST(CommandLineMentions, NotPrefixesOfOtherNames) {
  EXPECT_FALSE(command_line_mentions(argv({"x", "/d/server2/a"}), "/d/server"));
  EXPECT_FALSE(command_line_mentions(argv({"x", "/e/d/server"}), "/d/server"));
  EXPECT_FALSE(command_line_mentions(argv({"byoc", "up", "--data-dir", "/d"}), "/d/server"));
  EXPECT_FALSE(command_line_mentions("", "/d"));
}

TEST(ProcessesUnder, FindsNothingForAFreshDirectory) {
  EXPECT_TRUE(processes_under("/nonexistent/byoc-test-dir").empty());
}

}  // namespace
}  // namespace byoc::cli
