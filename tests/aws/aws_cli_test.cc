// `byoc aws sign-request` end to end in-process: a suite case signed by the
// command equals the suite's signed request, in both forms; bad input is one
// `error: …` line and a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_fixture.h"

namespace byoc::cli {
namespace {

namespace fs = std::filesystem;

fs::path suite_case(const std::string& name) {
  return byoc::testing::source_dir() / "tests" / "aws" / "vectors" / "sigv4" / "aws-signing-test-suite" / "v4" / name;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AwsCliTest : public AwsCliFixture {
 protected:
  std::vector<std::string> sign_args(const fs::path& request) {
    return {"aws", "sign-request", "--access-key", "AKIDEXAMPLE", "--secret-key",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "--session-token",
            "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", "--region", "us-east-1",
            "--service", "service", "--time", "20150830T123600Z", "--request", request.string()};
  }
};

TEST_F(AwsCliTest, HeaderFormMatchesSuite) {
  fs::path c = suite_case("get-vanilla-with-session-token");
  auto r = run_cli(sign_args(c / "request.txt"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, read(c / "header-signed-request.txt"));
}

TEST_F(AwsCliTest, PresignedFormMatchesSuite) {
  fs::path c = suite_case("get-vanilla-with-session-token");
  auto args = sign_args(c / "request.txt");
  args.insert(args.end(), {"--presign", "3600"});
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, read(c / "query-signed-request.txt"));
}

TEST_F(AwsCliTest, MalformedRequestIsOneErrorLine) {
  fs::path bad = home_.path() / "bad.req";
  std::ofstream(bad) << "this is not a request\n";
  auto r = run_cli(sign_args(bad));
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(AwsCliTest, BadTimeIsAUsageError) {
  auto args = sign_args(suite_case("get-vanilla") / "request.txt");
  *std::find(args.begin(), args.end(), "20150830T123600Z") = "yesterday";
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("--time"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace byoc::cli
