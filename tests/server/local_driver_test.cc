// The local cloud driver with real child processes standing in for agents
// (shell scripts): every agent it starts is reaped, and a directory is never
// removed under an agent that is still starting.
#include "cloud/local/local_driver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>

#include "base/files.h"
#include "testing/testing.h"

namespace byoc::cloud {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// "Z" when `pid` is a zombie, "" when it is gone, its state letter otherwise.
std::string process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? "" : text.substr(close + 2, 1);
}

class LocalDriverTest : public ::testing::Test {
 protected:
  // An "agent" that runs `body` (sh) and records its pid where the driver finds children.
  LocalDriver make(const std::string& body) {
    fs::path script = dir.path() / "agent.sh";
    files::write_atomic(script, "#!/bin/sh\necho $$ > " + (dir.path() / "last.pid").string() + "\n" + body + "\n", 0700);
    LocalDriverOptions o;
    o.environments_dir = dir.path() / "environments";
    o.byoc_binary = script;
    o.server_url = "https://127.0.0.1:1";
    o.issue_join_token = [](const std::string&) { return std::string("byocjoin_test"); };
    o.plane_urls = [this] { return plane; };
    o.stop_agents_on_shutdown = false;
    o.clock = &clock;
    o.stop_grace = 5s;
    return LocalDriver(o);
  }
  pid_t last_pid() {
    std::optional<std::string> text;
    // The shell creates the file before it writes the pid: wait for the whole line.
    EXPECT_TRUE(testing::eventually([&] {
      text = files::read_if_exists(dir.path() / "last.pid");
      return text && !text->empty() && text->back() == '\n';
    }, 5s));
    return text && !text->empty() && text->back() == '\n' ? std::stoi(*text) : 0;
  }

  testing::TempDir dir;
  SystemClock clock;
  model::Environment env{.id = "env-1"};
  std::vector<std::string> plane{"https://127.0.0.1:1", "https://127.0.0.1:2"};
};

TEST_F(LocalDriverTest, AnAgentThatExitsIsReapedAndItsDirectoryRemoved) {
  LocalDriver driver = make("exit 0");
  driver.create(env, "t1");
  pid_t pid = last_pid();
  ASSERT_TRUE(testing::eventually([&] { return process_state(pid) == "Z"; }, 5s)) << process_state(pid);
  driver.remove(env, "t2");
  EXPECT_EQ(process_state(pid), "") << "the agent was left a zombie";
  EXPECT_FALSE(fs::exists(driver.directory(env.id)));
}

TEST_F(LocalDriverTest, ADirectoryIsNotRemovedUnderAnAgentStillStarting) {
  LocalDriver driver = make("trap 'exit 0' TERM\nwhile :; do sleep 0.05; done");  // never takes the lock
  driver.create(env, "t1");
  pid_t pid = last_pid();
  driver.remove(env, "t2");  // SIGTERM, and the directory stays while it runs
  EXPECT_TRUE(fs::exists(driver.directory(env.id)));
  ASSERT_TRUE(testing::eventually([&] { return process_state(pid) == "Z" || process_state(pid).empty(); }, 5s));
  driver.remove(env, "t2");
  EXPECT_EQ(process_state(pid), "");
  EXPECT_FALSE(fs::exists(driver.directory(env.id)));
}

TEST_F(LocalDriverTest, AStartingAgentIsNotStartedTwice) {
  LocalDriver driver = make("trap 'exit 0' TERM\nwhile :; do sleep 0.05; done");
  driver.create(env, "t1");
  pid_t first = last_pid();
  fs::remove(dir.path() / "last.pid");
  driver.update(env, "t2");
  EXPECT_FALSE(testing::eventually([&] { return fs::exists(dir.path() / "last.pid"); }, 300ms))
      << "a second agent was started while the first still runs";
  ::kill(first, SIGTERM);
  ASSERT_TRUE(testing::eventually([&] { return process_state(first) == "Z" || process_state(first).empty(); }, 5s));
  driver.remove(env, "t3");
  EXPECT_EQ(process_state(first), "");
}

TEST_F(LocalDriverTest, AnAgentDialsEveryLiveServerAndOneDiallingNoneIsOutOfDate) {
  // Holds the agent's lock like a running agent ($3 is its --state-dir).
  LocalDriver driver = make("echo \"$@\" > \"$3/argv\"\nexec flock -o \"$3/agent.lock\" sleep 30");
  driver.create(env, "t1");
  fs::path state = driver.directory(env.id);
  ASSERT_TRUE(testing::eventually([&] { return driver.observe(env).ready; }, 5s));
  EXPECT_NE(files::read(state / "argv").find("--server https://127.0.0.1:1,https://127.0.0.1:2 "), std::string::npos)
      << files::read(state / "argv");
  // The agent dials what it was started with and the list the plane last
  // gave it: with no live server among them it is stale…
  files::write_atomic(state / "servers.json", R"(["https://127.0.0.1:9"])", 0600);
  plane = {"https://127.0.0.1:3", "https://127.0.0.1:4"};
  cloud::Observation o = driver.observe(env);
  EXPECT_FALSE(o.up_to_date);
  EXPECT_EQ(o.reason, "agent_dials_old_url");
  // …with one, it is not, even when the server that started it has moved on.
  plane = {"https://127.0.0.1:3", "https://127.0.0.1:9"};
  EXPECT_TRUE(driver.observe(env).ready);
  // Another server's start a moment ago counts as starting here too.
  pid_t pid = last_pid();
  ::kill(-pid, SIGKILL);  // its group: flock and its sleep
  ASSERT_TRUE(testing::eventually([&] { return process_state(pid) == "Z" || process_state(pid).empty(); }, 5s));
  LocalDriver peer = make("exit 0");
  EXPECT_TRUE(peer.observe(env).up_to_date) << "started within the peer window";
  files::write_atomic(state / "agent-started-at", std::to_string((clock.unix_seconds() - 60) * 1000), 0600);
  EXPECT_FALSE(peer.observe(env).up_to_date);
  driver.remove(env, "t2");
  driver.remove(env, "t2");
}

}  // namespace
}  // namespace byoc::cloud
