#include "cli/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace byoc::cli {
namespace {
using nlohmann::json;

json operation(const std::string& status, const std::vector<std::pair<std::string, std::string>>& steps,
               double progress) {
  json op = {{"id", "op-1"},     {"kind", "service.create"}, {"environment", "e1"},   {"service", "s1"},
             {"status", status}, {"progress", progress},     {"steps", json::array()}};
  for (const auto& [name, state] : steps) op["steps"].push_back({{"name", name}, {"state", state}});
  return op;
}

TEST(OperationProgress, NamesTheFirstUnfinishedStep) {
  EXPECT_EQ(operation_progress(operation("running", {{"store", "done"}, {"agent_apply", "running"}}, 0.5)),
            "[2/2] agent_apply running, 50%");
  EXPECT_EQ(operation_progress(operation("succeeded", {{"store", "done"}, {"agent_apply", "done"}}, 1.0)),
            "[2/2] agent_apply done, 100%");
  EXPECT_EQ(operation_progress(operation("running", {}, 0.25)), "25%");
}

TEST(OperationTitle, KindAndTarget) {
  EXPECT_EQ(operation_title(operation("running", {}, 0)), "service.create e1/s1");
  EXPECT_EQ(operation_title(json{{"kind", "environment.delete"}, {"environment", "e1"}}),
            "environment.delete e1");
}

TEST(ProgressPrinter, PlainPrintsOneLinePerStepChange) {
  std::ostringstream out;
  ProgressPrinter printer(out, /*tty=*/false);
  printer.update(operation("running", {{"store", "done"}, {"agent_apply", "pending"}}, 0.3));
  printer.update(operation("running", {{"store", "done"}, {"agent_apply", "pending"}}, 0.3));  // nothing new
  printer.update(operation("running", {{"store", "done"}, {"agent_apply", "running"}}, 0.5));
  printer.finish(operation("succeeded", {{"store", "done"}, {"agent_apply", "done"}}, 1.0));
  EXPECT_EQ(out.str(),
            "service.create e1/s1: store done\n"
            "service.create e1/s1: agent_apply pending\n"
            "service.create e1/s1: agent_apply running\n"
            "service.create e1/s1: agent_apply done\n"
            "service.create e1/s1: succeeded\n");
}

TEST(ProgressPrinter, TtyRewritesOneLine) {
  std::ostringstream out;
  ProgressPrinter printer(out, /*tty=*/true);
  printer.update(operation("running", {{"store", "running"}}, 0.1));
  printer.update(operation("running", {{"store", "done"}, {"agent_apply", "running"}}, 0.5));
  printer.finish(operation("succeeded", {{"store", "done"}, {"agent_apply", "done"}}, 1.0));
  std::string text = out.str();
  EXPECT_EQ(text,
            "\r\033[Kservice.create e1/s1: [1/1] store running, 10%"
            "\r\033[Kservice.create e1/s1: [2/2] agent_apply running, 50%"
            "\r\033[Kservice.create e1/s1: [2/2] agent_apply done, 100%"
            "\r\033[Kservice.create e1/s1: succeeded\n");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST(ProgressPrinter, FailureShowsTheErrorAndNotesEndTheLine) {
  std::ostringstream out;
  ProgressPrinter printer(out, /*tty=*/true);
  printer.update(operation("running", {{"store", "running"}}, 0.1));
  printer.note("hello");
  json failed = operation("failed", {{"store", "failed"}}, 0.1);
  failed["error"] = {{"code", "agent_unreachable"}, {"message", "no agent"}};
  printer.finish(failed);
  std::string text = out.str();
  EXPECT_NE(text.find("store running, 10%\nhello\n"), std::string::npos) << text;
  EXPECT_NE(text.find("service.create e1/s1: failed: no agent (agent_unreachable)\n"), std::string::npos)
      << text;
}

TEST(ProgressPrinter, EndLineOnlyWhenALineIsOpen) {
  std::ostringstream out;
  ProgressPrinter printer(out, /*tty=*/true);
  printer.end_line();
  EXPECT_EQ(out.str(), "");
  printer.update(operation("running", {{"store", "running"}}, 0.1));
  printer.end_line();
  printer.end_line();
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

}  // namespace
}  // namespace byoc::cli
