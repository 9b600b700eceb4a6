// Following an operation (docs/api.md "Operation") until it ends, and showing
// its steps to a human while it runs.
//
// ProgressPrinter has two modes: on a terminal it rewrites one line in place
// ("\r" + erase line) as steps move; otherwise (logs, pipes, tests) it prints
// one plain line per step state change, never repeating an unchanged one.
// Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include <ostream>
#include <string>

#include "cli/api_client.h"

namespace byoc::cli {

class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& out, bool tty) : out_(out), tty_(tty) {}

  // A new snapshot of the operation.
  void update(const nlohmann::json& operation);
  // The operation ended (or the wait was abandoned): ends the rewritten line
  // with its final status.
  void finish(const nlohmann::json& operation);
  // A free-form note ("waiting for the endpoint"): its own line in either
  // mode (on a terminal it ends the line being rewritten first).
  void note(const std::string& text);
  // Ends a line being rewritten (tty) so the next output starts clean.
  void end_line();

 private:
  std::ostream& out_;
  bool tty_;
  bool line_open_ = false;                    // tty: a rewritten line is on screen
  std::map<std::string, std::string> steps_;  // plain: last state printed per step
};

// "service.create e1/s1" — what an operation acts on, for progress lines.
std::string operation_title(const nlohmann::json& operation);
// "[2/3] agent_apply running, 50%": the first step not done, else the last.
std::string operation_progress(const nlohmann::json& operation);

struct WaitOptions {
  const Clock& clock;
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  // The first look comes at once, the next after `first_interval`, each
  // later one 1.25× later up to `interval`: a change that takes a second is
  // seen within tens of milliseconds of ending, one that takes minutes
  // costs four requests a second.
  std::chrono::milliseconds first_interval{20};
  std::chrono::milliseconds interval{250};
  std::function<bool()> cancelled;  // optional: polled between requests (Ctrl-C in `byoc up`)
};

// Polls GET /v1/operations/{id} (see WaitOptions for how often) until its
// status is no longer `running`.
// Returns the succeeded operation; throws byoc::Error when it failed (with
// the operation's error code and message), timed out or was cancelled.
nlohmann::json wait_for_operation(ApiClient& api, const std::string& id, ProgressPrinter& progress,
                                  const WaitOptions& options);

}  // namespace byoc::cli
