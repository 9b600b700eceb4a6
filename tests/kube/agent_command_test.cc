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

struct Outcome {
  int code = -1;
  std::string output;
};

// The real agent with the Deployment's command line of `install`, its paths
// moved into `dir`, and `extra` arguments after it.
Outcome run_deployments_agent(const AgentInstall& install, const testing::TempDir& dir,
                              const std::vector<std::string>& extra = {}) {
  auto objects = render_agent_objects(install);
  const auto& container = objects.back()["spec"]["template"]["spec"]["containers"][0];
  std::vector<std::string> command = container["command"];
  std::vector<std::string> args = container["args"];
  EXPECT_EQ(command, (std::vector<std::string>{"byoc", "agent"}));

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
  spawn.argv.insert(spawn.argv.end(), extra.begin(), extra.end());
  spawn.env = {{"HOME", dir.path().string()}};
  spawn.unset_env = {"BYOC_JOIN_TOKEN", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"};
  spawn.output = dir.path() / "agent.log";
  pid_t pid = proc::spawn(spawn);
  std::optional<int> code;
  Outcome out;
  EXPECT_TRUE(testing::eventually([&] { return (code = proc::try_reap(pid)).has_value(); }, std::chrono::seconds(20)));
  if (!code) proc::terminate(pid, std::chrono::seconds(5));
  out.code = code.value_or(-1);
  out.output = files::read_if_exists(spawn.output).value_or("");
  return out;
}

AgentInstall install_of(const std::string& runtime) {
  AgentInstall install;
  install.environment_id = "env1";
  install.image = "byoc-agent:test";
  install.server_urls = {"https://127.0.0.1:1", "https://127.0.0.2:1"};
  install.join_token = "not-a-join-token";
  install.runtime = runtime;
  return install;
}

TEST(AgentCommand, TheRealAgentTakesTheDeploymentsCommandLine) {
  for (const std::string runtime : {"local", "kubernetes"}) {
    testing::TempDir dir("kube-agent-command");
    Outcome out = run_deployments_agent(install_of(runtime), dir);
    // 1: the token was read and refused; a flag the agent doesn't take would be 2.
    EXPECT_EQ(out.code, 1) << runtime << ": " << out.output;
    EXPECT_NE(out.output.find("join token is malformed"), std::string::npos) << out.output;
  }
}

TEST(AgentCommand, ARuntimeOptionItCannotUseStopsTheAgentBeforeItJoins) {
  testing::TempDir dir("kube-agent-command");
  Outcome unknown = run_deployments_agent(install_of("kubernetes"), dir, {"--runtime-option", "bogus=1"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.output.find("--runtime-option bogus: unknown"), std::string::npos) << unknown.output;
  EXPECT_EQ(unknown.output.find("join token"), std::string::npos) << "refused before the token is read";
  Outcome malformed = run_deployments_agent(install_of("kubernetes"), dir, {"--runtime-option", "namespace"});
  EXPECT_NE(malformed.code, 0);
  EXPECT_NE(malformed.output.find("KEY=VALUE"), std::string::npos) << malformed.output;
  Outcome local = run_deployments_agent(install_of("local"), dir, {"--runtime-option", "namespace=x"});
  EXPECT_NE(local.code, 0);
  EXPECT_NE(local.output.find("the local runtime takes no options"), std::string::npos) << local.output;
}

}  // namespace
}  // namespace byoc::kube
