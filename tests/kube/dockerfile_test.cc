// The agent image's Dockerfile, read as text (no image is built here): it
// must run `byoc agent` as the non-root user the Deployment expects.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/files.h"
#include "kube/agent_objects.h"
#include "testing/testing.h"

namespace byoc::kube {
namespace {

// The Dockerfile's instructions, one a line (continuations joined), of its last stage.
std::vector<std::string> final_stage() {
  auto text = files::read_if_exists(testing::source_dir() / "deploy/agent/Dockerfile");
  if (!text) throw std::runtime_error("deploy/agent/Dockerfile is missing");
  std::vector<std::string> lines;
  std::istringstream in(*text);
  std::string joined;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    bool continues = !line.empty() && line.back() == '\\';
    joined += continues ? line.substr(0, line.size() - 1) : line;
    if (continues) continue;
    if (joined.rfind("FROM ", 0) == 0) lines.clear();
    lines.push_back(joined);
    joined.clear();
  }
  return lines;
}

TEST(AgentDockerfile, RunsTheAgentAsTheDeploymentsNonRootUser) {
  auto lines = final_stage();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "FROM debian:bookworm-slim");
  std::string user, entrypoint;
  for (const auto& line : lines) {
    if (line.rfind("USER ", 0) == 0) user = line.substr(5);
    if (line.rfind("ENTRYPOINT ", 0) == 0) entrypoint = line.substr(11);
  }
  AgentInstall install;
  install.environment_id = "env1";
  install.image = "byoc-agent:test";
  install.server_urls = {"https://plane:8443"};
  install.join_token = "t";
  auto objects = render_agent_objects(install);
  const auto& pod = objects.back()["spec"]["template"]["spec"];
  const int uid = pod["securityContext"]["runAsUser"];
  EXPECT_EQ(user, std::to_string(uid) + ":" + std::to_string(uid));
  EXPECT_NE(uid, 0);
  EXPECT_EQ(nlohmann::json::parse(entrypoint), nlohmann::json({"byoc", "agent"}));
  EXPECT_EQ(pod["containers"][0]["command"], nlohmann::json({"byoc", "agent"}));
}

TEST(AgentDockerfile, BuildsOnBookwormAndInstallsOnlyRuntimeLibraries) {
  auto text = *files::read_if_exists(testing::source_dir() / "deploy/agent/Dockerfile");
  EXPECT_NE(text.find("FROM debian:bookworm AS build"), std::string::npos);
  EXPECT_NE(text.find("ninja -C build byoc"), std::string::npos);
  std::string runtime;
  for (const auto& line : final_stage()) runtime += line + "\n";
  EXPECT_EQ(runtime.find("-dev"), std::string::npos);  // no headers or compilers in the running image
  EXPECT_NE(runtime.find("COPY --from=build"), std::string::npos);
}

}  // namespace
}  // namespace byoc::kube
