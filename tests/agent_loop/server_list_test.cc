// ServerList: the management plane's servers an agent dials, kept in its
// state dir, spread at random and moved past on failure.
#include "agent/server_list.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {

const std::string kA = "https://10.0.0.1:8443", kB = "https://10.0.0.2:8443", kC = "https://10.0.0.3:8443";

class ServerListTest : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return dir.path() / "servers.json"; }
  testing::TempDir dir;
};

TEST_F(ServerListTest, StartsOnARandomServerAndMovesOnAfterEachFailure) {
  std::set<std::string> starts;
  for (uint64_t seed = 0; seed < 64; ++seed) starts.insert(ServerList({kA, kB, kC}, file(), seed).current());
  EXPECT_EQ(starts.size(), 3u) << "agents must spread over the plane";
  ServerList list({kA, kB, kC}, file(), 7);
  std::string first = list.current();
  list.failed();
  EXPECT_NE(list.current(), first);
  list.failed();
  list.failed();
  EXPECT_EQ(list.current(), first);  // round and round
  ServerList one({kA}, file(), 1);
  one.failed();
  EXPECT_EQ(one.current(), kA);
  EXPECT_THROW(ServerList({}, file(), 1), Error);
}

TEST_F(ServerListTest, ThePlanesListComesFirstKeepsTheCurrentServerAndIsKept) {
  ServerList list({kA}, file(), 1);
  EXPECT_FALSE(list.update({}));  // no news
  EXPECT_FALSE(files::read_if_exists(file()));
  EXPECT_FALSE(list.update({kB, kA}));  // still dialling A
  EXPECT_EQ(list.current(), kA);
  EXPECT_EQ(list.all(), (std::vector<std::string>{kB, kA}));
  EXPECT_EQ(nlohmann::json::parse(files::read(file())), nlohmann::json({kB, kA}));
  // A gone from the plane's list: it was configured, so it stays, last; and
  // it just answered, so the agent stays with it until a call fails.
  EXPECT_FALSE(list.update({kB, kC}));
  EXPECT_EQ(list.current(), kA);
  EXPECT_EQ(list.all(), (std::vector<std::string>{kB, kC, kA}));
  list.failed();
  EXPECT_EQ(list.current(), kB);
  // One the agent had only from the plane is dropped with it, and the agent moves on.
  EXPECT_TRUE(list.update({kA, kC}));
  EXPECT_EQ(list.current(), kA);
  // A restart starts from the kept list.
  ServerList again({kB}, file(), 3);
  EXPECT_EQ(again.all(), (std::vector<std::string>{kA, kC, kB}));
}

TEST_F(ServerListTest, AtMostSixteenAndAnUnreadableFileIsIgnored) {
  std::vector<std::string> many;
  for (int i = 0; i < 20; ++i) many.push_back("https://10.0.1." + std::to_string(i) + ":8443");
  ServerList list({kA}, file(), 1);
  list.update(many);
  EXPECT_EQ(list.all().size(), 16u);
  EXPECT_EQ(list.all().back(), kA) << "a configured server always keeps its place";
  files::write_atomic(file(), "[\"http://plain:80\", 7, \"https://ok:1\"", 0600);  // truncated JSON
  EXPECT_EQ(ServerList({kA}, file(), 1).all(), std::vector<std::string>{kA});
  files::write_atomic(file(), "[\"http://plain:80\", 7, \"https://ok:1\"]", 0600);
  EXPECT_EQ(ServerList({kA}, file(), 1).all(), (std::vector<std::string>{"https://ok:1", kA}));
}

}  // namespace
}  // namespace byoc::agent
