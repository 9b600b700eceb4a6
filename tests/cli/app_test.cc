// run() end to end without a server: parsing, usage errors, help, and the
// errors a command reports before it would talk to anything.
#include "cli/app.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "testing/testing.h"

namespace byoc::cli {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
  long err_lines() const { return std::count(err.begin(), err.end(), '\n'); }
};

class AppTest : public ::testing::Test {
 protected:
  Result run_cli(std::vector<std::string> args) {
    std::ostringstream out, err;
    Io io{out, err, clock_, false, map_env({{"HOME", home_.path().string()}})};
    int code = run(args, io);
    return {code, out.str(), err.str()};
  }
  testing::TempDir home_;
  SystemClock clock_;
};

TEST_F(AppTest, UnknownFlagIsOneUsageLine) {
  auto r = run_cli({"env", "list", "--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(AppTest, MissingEnvIsOneUsageLine) {
  auto r = run_cli({"service", "create", "s1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: --env is required\n");
}

TEST_F(AppTest, BadCidrIsOneUsageLine) {
  auto r = run_cli({"env", "create", "e1", "--cloud", "local", "--cidr", "10.0.0.300/16"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_NE(r.err.find("--cidr"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("10.0.0.300"), std::string::npos) << r.err;
}

TEST_F(AppTest, BadCloudAndBadAllowedIps) {
  // Which clouds exist is the server's to say (`byoc cloud list`); a name that can't be one is a usage error.
  auto cloud = run_cli({"env", "create", "e1", "--cloud", "Not A Cloud", "--cidr", "10.0.0.0/16"});
  EXPECT_EQ(cloud.code, 2);
  EXPECT_EQ(cloud.err_lines(), 1) << cloud.err;
  EXPECT_NE(cloud.err.find("byoc cloud list"), std::string::npos) << cloud.err;
  auto ips = run_cli({"service", "create", "s1", "--env", "e1", "--allowed-ips", "10.0.0.0/8,nope"});
  EXPECT_EQ(ips.code, 2);
  EXPECT_EQ(ips.err_lines(), 1) << ips.err;
  EXPECT_NE(ips.err.find("nope"), std::string::npos) << ips.err;
}

TEST_F(AppTest, BadOutputFormat) {
  auto r = run_cli({"env", "list", "-o", "yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
}

TEST_F(AppTest, MissingSubcommand) {
  auto r = run_cli({"env"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  auto none = run_cli({});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("Usage"), std::string::npos) << none.err;
}

TEST_F(AppTest, JoinTokenIsNeverAcceptedOnTheCommandLine) {
  auto r =
      run_cli({"agent", "--state-dir", "/tmp/x", "--server", "https://127.0.0.1:1", "--join-token", "t"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
}

TEST_F(AppTest, TlsCertNeedsKey) {
  auto r = run_cli({"server", "--data-dir", "/tmp/x", "--tls-cert", "c.pem"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
}

TEST_F(AppTest, HelpEverywhereGoesToStdout) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                        {"env", "--help"},
                                        {"env", "create", "--help"},
                                        {"service", "create", "--help"},
                                        {"operation", "wait", "--help"},
                                        {"login", "--help"},
                                        {"up", "--help"},
                                        {"server", "--help"},
                                        {"agent", "--help"}}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.code, 0) << args.front();
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");
  }
  auto r = run_cli({"service", "create", "--help"});
  EXPECT_NE(r.out.find("--allowed-ips"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--wait"), std::string::npos) << r.out;
}

TEST_F(AppTest, NotLoggedInIsOneLineWithTheFix) {
  auto r = run_cli({"env", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_NE(r.err.find("byoc login"), std::string::npos) << r.err;
}

TEST_F(AppTest, LoginRejectsPlainHttpAndMissingTokenFile) {
  auto http = run_cli({"login", "--server", "http://127.0.0.1:1", "--token-file", "/nonexistent"});
  EXPECT_EQ(http.code, 1);
  EXPECT_EQ(http.err_lines(), 1) << http.err;
  EXPECT_NE(http.err.find("(field: server)"), std::string::npos) << http.err;
  auto token = run_cli({"login", "--server", "https://127.0.0.1:1", "--token-file", "/nonexistent"});
  EXPECT_EQ(token.code, 1);
  EXPECT_NE(token.err.find("(field: token-file)"), std::string::npos) << token.err;
}

}  // namespace
}  // namespace byoc::cli
