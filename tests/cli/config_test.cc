#include "cli/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::cli {
namespace {
namespace fs = std::filesystem;

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

const ClientConfig kSaved{"https://saved:1", "SAVED CA", "saved-token"};

TEST(ConfigPath, UnderHome) {
  EXPECT_EQ(config_path(map_env({{"HOME", "/home/u"}})), fs::path("/home/u/.config/byoc/config.json"));
  EXPECT_THROW(config_path(map_env({})), Error);
}

TEST(WriteConfig, FileIs0600AndDirectory0700) {
  testing::TempDir home;
  fs::path path = config_path(map_env({{"HOME", home.path().string()}}));
  write_config(path, kSaved);
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(path.parent_path()), 0700u);
  auto back = read_config(path);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, kSaved);
}

TEST(WriteConfig, TightensAnExistingOpenDirectoryAndFile) {
  testing::TempDir home;
  fs::path dir = home.path() / ".config" / "byoc";
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  files::write_atomic(dir / "config.json", "{}", 0644);
  write_config(dir / "config.json", kSaved);
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir / "config.json"), 0600u);
}

TEST(ReadConfig, MissingIsNulloptMalformedThrows) {
  testing::TempDir dir;
  EXPECT_FALSE(read_config(dir.path() / "none.json").has_value());
  files::write_atomic(dir.path() / "bad.json", "not json", 0600);
  EXPECT_THROW(read_config(dir.path() / "bad.json"), Error);
  files::write_atomic(dir.path() / "wrong.json", R"({"server": 3})", 0600);
  EXPECT_THROW(read_config(dir.path() / "wrong.json"), Error);
}

TEST(ResolveConnection, SavedConfigAloneIsUsed) {
  EXPECT_EQ(resolve_connection(kSaved, map_env({})), kSaved);
}

TEST(ResolveConnection, EachVariableOverridesItsFieldOnly) {
  testing::TempDir dir;
  files::write_atomic(dir.path() / "ca.pem", "ENV CA", 0644);
  auto resolved = resolve_connection(kSaved, map_env({{"BYOC_SERVER", "https://env:2/"}}));
  EXPECT_EQ(resolved, (ClientConfig{"https://env:2", "SAVED CA", "saved-token"}));
  resolved = resolve_connection(kSaved, map_env({{"BYOC_TOKEN", "env-token"}}));
  EXPECT_EQ(resolved, (ClientConfig{"https://saved:1", "SAVED CA", "env-token"}));
  resolved = resolve_connection(kSaved, map_env({{"BYOC_CA_FILE", (dir.path() / "ca.pem").string()}}));
  EXPECT_EQ(resolved, (ClientConfig{"https://saved:1", "ENV CA", "saved-token"}));
}

TEST(ResolveConnection, EnvironmentAloneWithoutConfigFile) {
  testing::TempDir dir;
  files::write_atomic(dir.path() / "ca.pem", "ENV CA", 0644);
  auto resolved =
      resolve_connection(std::nullopt, map_env({{"BYOC_SERVER", "https://env:2"},
                                                {"BYOC_TOKEN", "t"},
                                                {"BYOC_CA_FILE", (dir.path() / "ca.pem").string()}}));
  EXPECT_EQ(resolved, (ClientConfig{"https://env:2", "ENV CA", "t"}));
}

TEST(ResolveConnection, EmptyVariableDoesNotOverride) {
  EXPECT_EQ(resolve_connection(kSaved, map_env({{"BYOC_SERVER", ""}, {"BYOC_TOKEN", ""}})), kSaved);
}

TEST(ResolveConnection, MissingPiecesSayHowToLogIn) {
  try {
    resolve_connection(std::nullopt, map_env({}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "not_logged_in");
    EXPECT_NE(std::string(e.what()).find("byoc login"), std::string::npos) << e.what();
  }
  EXPECT_THROW(
      resolve_connection(std::nullopt, map_env({{"BYOC_SERVER", "https://x:1"}, {"BYOC_TOKEN", "t"}})),
      Error);                                                                                   // no CA
  EXPECT_THROW(resolve_connection(ClientConfig{"https://x:1", "CA", ""}, map_env({})), Error);  // no token
  EXPECT_THROW(resolve_connection(kSaved, map_env({{"BYOC_CA_FILE", "/nonexistent/ca.pem"}})), Error);
}

TEST(ResolveConnection, RefusesPlainHttp) {
  try {
    resolve_connection(kSaved, map_env({{"BYOC_SERVER", "http://x:1"}}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "BYOC_SERVER");
  }
}

TEST(NormalizeServerUrl, StripsSlashesAndChecksScheme) {
  EXPECT_EQ(normalize_server_url("https://127.0.0.1:8443/", "server"), "https://127.0.0.1:8443");
  EXPECT_EQ(normalize_server_url("https://h", "server"), "https://h");
  EXPECT_THROW(normalize_server_url("http://h:1", "server"), Error);
  EXPECT_THROW(normalize_server_url("https://", "server"), Error);
  EXPECT_THROW(normalize_server_url("h:1", "server"), Error);
  EXPECT_THROW(normalize_server_url("https://h:1/?x=1", "server"), Error);
}

}  // namespace
}  // namespace byoc::cli
