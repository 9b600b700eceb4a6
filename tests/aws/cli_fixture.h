// `byoc aws …` run in-process with its own HOME: what it printed on stdout
// and stderr and its exit code.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "testing/testing.h"

namespace byoc::cli {

struct CliResult {
  int code;
  std::string out;
  std::string err;
};

class AwsCliFixture : public ::testing::Test {
 protected:
  CliResult run_cli(std::vector<std::string> args) {
    std::ostringstream out, err;
    Io io{out, err, clock_, false, map_env({{"HOME", home_.path().string()}})};
    int code = run(args, io);
    return {code, out.str(), err.str()};
  }
  // Bad input: one `error: …` line on stderr, nothing on stdout, a non-zero exit.
  void expect_one_error_line(const CliResult& r) {
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  byoc::testing::TempDir home_;
  SystemClock clock_;
};

}  // namespace byoc::cli
