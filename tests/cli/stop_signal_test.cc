#include "cli/stop_signal.h"

#include <gtest/gtest.h>

#include <csignal>

namespace byoc::cli {
namespace {

TEST(StopSignal, SigtermSetsTheFlagInsteadOfKilling) {
  StopSignal stop;
  EXPECT_FALSE(stop.requested());
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(stop.requested());
  EXPECT_EQ(stop.signal_number(), SIGTERM);
  std::raise(SIGINT);  // the first signal is the one reported
  EXPECT_EQ(stop.signal_number(), SIGTERM);
}

TEST(StopSignal, RestoresThePreviousHandlers) {
  { StopSignal stop; }
  struct sigaction current {};
  sigaction(SIGINT, nullptr, &current);
  EXPECT_EQ(current.sa_handler, SIG_DFL);
  StopSignal again;
  EXPECT_FALSE(again.requested());  // a new instance starts clear
}

}  // namespace
}  // namespace byoc::cli
