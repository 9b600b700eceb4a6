// A customer policy file (or list of versions) the agent can't read exactly
// stops it before it joins or runs anything, with one readable line.
#include <gtest/gtest.h>

#include "agent_loop_support.h"
#include "base/files.h"
#include "base/process.h"
#include "testing/testing.h"

namespace byoc::agent_loop {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Starts the agent with `file` in its state dir holding `text`: it must stop
// at once with one line naming the file and `named`, before joining.
void expect_stopped_at_start(const std::string& file, const std::string& text, const std::string& named) {
  testing::TempDir scratch;
  fs::path state = scratch.path() / "state";
  files::ensure_dir(state, 0700);
  files::write_atomic(state / file, text, 0600);
  files::write_atomic(scratch.path() / "join.token", "byocjoin_x." + std::string(64, 'a'), 0600);
  // Nothing listens on that port: an agent that got past the file would keep trying to join.
  int port = proc::pick_free_port();
  e2e::RunResult r = e2e::run_byoc(
      {"agent", "--state-dir", state.string(), "--server", "https://127.0.0.1:" + std::to_string(port),
       "--join-token-file", (scratch.path() / "join.token").string()},
      {{"HOME", scratch.path().string()}}, scratch.path(), 30s);
  EXPECT_NE(r.code, 0) << text;
  EXPECT_EQ(r.err_lines(), 1u) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(state / "agent.key")) << "it must not have started joining";
  EXPECT_FALSE(fs::exists(state / "agent.pid"));
  EXPECT_TRUE(e2e::processes_mentioning(scratch.path()).empty());
}

TEST(AgentStart, ABrokenPolicyFileStopsTheAgentWithOneLine) {
  expect_stopped_at_start("policy.json", R"({"public_endpoint_allowed": "no"})", "public_endpoint_allowed");
  expect_stopped_at_start("policy.json", R"({"public_endpoint_allowed": false, "allow_everything": true})",
                          "allow_everything");
  expect_stopped_at_start("policy.json", R"({"widest_allowlist_prefix_v4": 40})", "widest_allowlist_prefix_v4");
  expect_stopped_at_start("policy.json", "{not json", "not valid JSON");
}

TEST(AgentStart, ABrokenVersionListStopsTheAgentWithOneLine) {
  expect_stopped_at_start("versions.json", R"({"clickhouse":{"18.16.1":{"binary":"clickhouse-server"}}})",
                          "clickhouse.18.16.1.binary");
  expect_stopped_at_start("versions.json", R"({"clickhouse":{"x":{"image":"clickhouse/clickhouse-server:latest"}}})",
                          "clickhouse.x.image");
  expect_stopped_at_start("versions.json", R"({"clickhouse":{},"run":"/bin/sh"})", "run");
  expect_stopped_at_start("versions.json", "[", "versions.json");
}

}  // namespace
}  // namespace byoc::agent_loop
