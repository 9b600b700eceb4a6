// The Deployment's command line against the real `byoc agent`: every flag
// is one the agent takes, and it reads the join token from the file the
// Secret is mounted as. (Its paths moved into a scratch dir; the token is a
// malformed one, so the agent stops right after reading it.)
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/process.h"
#include "kube/agent_objects.h"
#include "testing/testing.h"

namespace byoc::kube {
namespace {

TEST(AgentCommand, TheRealAgentTakesTheDeploymentsCommandLine) {
  testing::TempDir dir("kube-agent-command");
  AgentInstall install;
  install.environment_id = "env1";
  install.image = "byoc-agent:test";
  install.server_urls = {"https://127.0.0.1:1", "https://127.0.0.2:1"};
  install.join_token = "not-a-join-token";
  install.runtime = "local";
  auto objects = render_agent_objects(install);
  const auto& container = objects.back()["spec"]["template"]["spec"]["containers"][0];
  std::vector<std::string> command = container["command"];
  std::vector<std::string> args = container["args"];
  ASSERT_EQ(command, (std::vector<std::string>{"byoc", "agent"}));

  proc::SpawnOptions spawn;
  spawn.argv = {testing::byoc_binary().string(), "agent"};
  files::write_atomic(dir.path() / "token", install.join_token + "\n", 0600);
  const std::map<std::string, std::string> moved = {{"--state-dir", (dir.path() / "state").string()},
                                                    {"--join-token-file", (dir.path() / "token").string()}};
  for (size_t i = 0; i < args.size(); ++i) {
    spawn.argv.push_back(args[i]);
    if (auto it = moved.find(args[i]); it != moved.end() && i + 1 < args.size()) {
      spawn.argv.push_back(it->second);
      ++i;
    }
  }
  spawn.env = {{"HOME", dir.path().string()}};
  spawn.unset_env = {"BYOC_JOIN_TOKEN"};
  spawn.output = dir.path() / "agent.log";
  pid_t pid = proc::spawn(spawn);
  std::optional<int> code;
  ASSERT_TRUE(testing::eventually([&] { return (code = proc::try_reap(pid)).has_value(); }, std::chrono::seconds(20)))
      << files::read_if_exists(spawn.output).value_or("");
  std::string output = files::read_if_exists(spawn.output).value_or("");
  // 1: the token was read and refused; a flag the agent doesn't take would be 2.
  EXPECT_EQ(*code, 1) << output;
  EXPECT_NE(output.find("join token is malformed"), std::string::npos) << output;
}

}  // namespace
}  // namespace byoc::kube
