// A wrong command line fails fast with exit code != 0 and exactly one line on
// stderr, before anything talks to a server (none runs here).
#include <gtest/gtest.h>

#include "e2e_support.h"
#include "testing/testing.h"

namespace byoc::e2e {
namespace {

TEST(BadInput, OneLineOnStderrAndNonZeroExit) {
  testing::TempDir root("byoc-badinput");
  std::map<std::string, std::string> env = {{"HOME", root.path().string()}};
  const std::vector<std::vector<std::string>> cases = {
      {"env", "create", "e1", "--cloud", "local", "--cidr", "10.0.0.0/16", "--bogus"},  // unknown flag
      {"service", "create", "s1"},                                                      // missing --env
      {"service", "get", "s1", "--replicas", "2"},                             // flag of another command
      {"env", "create", "e1", "--cloud", "local", "--cidr", "10.0.0.999/16"},  // bad --cidr
      {"env", "create", "e1", "--cloud", "local", "--cidr", "10.0.0.0"},       // bad --cidr
      {"env", "create", "e1", "--cloud", "moon", "--cidr", "10.0.0.0/16"},     // bad --cloud
      {"service", "create", "s1", "--env", "e1", "--replicas", "two"},         // not a number
      {"agent", "--state-dir", "x", "--server", "https://127.0.0.1:1", "--join-token", "t"},  // never on argv
      {"service", "create", "s1", "--env", "e1", "--profile", "host", "--memory-mib", "1"},   // not both
      {"service", "update", "s1", "--env", "e1"},                // nothing to change
      {"env", "update", "e1", "--daemonset-cpu-millis", "100"},  // needs the memory too
      {"token", "create", "--role", "root"},                     // unknown role
      {"agent", "--state-dir", "x", "--server", "https://127.0.0.1:1", "--runtime", "mainframe"},  // no such runtime
      {"frobnicate"},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += " " + a;
    RunResult r = run_byoc(args, env, root.path());
    EXPECT_NE(r.code, 0) << "byoc" << joined;
    EXPECT_EQ(r.err_lines(), 1u) << "byoc" << joined << "\nstderr:\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << "byoc" << joined << "\nstderr:\n" << r.err;
    EXPECT_EQ(r.out, "") << "byoc" << joined;
  }
}

TEST(BadInput, NotLoggedInSaysHow) {
  testing::TempDir root("byoc-badinput");
  RunResult r = run_byoc({"env", "list"}, {{"HOME", root.path().string()}}, root.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err_lines(), 1u) << r.err;
  EXPECT_NE(r.err.find("byoc login"), std::string::npos) << r.err;
}

TEST(BadInput, HelpExitsZero) {
  testing::TempDir root("byoc-badinput");
  RunResult r = run_byoc({"service", "create", "--help"}, {{"HOME", root.path().string()}}, root.path());
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--allowed-ips"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace byoc::e2e
