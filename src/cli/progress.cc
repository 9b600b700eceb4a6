#include "cli/progress.h"

#include <algorithm>

#include "cli/output.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

const json& steps_of(const json& operation) {
  static const json kEmpty = json::array();
  if (!operation.is_object()) return kEmpty;
  auto it = operation.find("steps");
  return it != operation.end() && it->is_array() ? *it : kEmpty;
}

std::string status_text(const json& operation) {
  std::string status = cell(operation, "status");
  if (status == "failed" && operation.contains("error") && operation["error"].is_object()) {
    const json& error = operation["error"];
    status += ": " + cell(error, "message");
    if (!cell(error, "code").empty()) status += " (" + cell(error, "code") + ")";
  }
  return status;
}

}  // namespace

std::string operation_title(const json& operation) {
  std::string target = cell(operation, "environment");
  if (!cell(operation, "service").empty()) target += "/" + cell(operation, "service");
  std::string kind = cell(operation, "kind");
  if (kind.empty()) kind = "operation " + cell(operation, "id");
  return target.empty() ? kind : kind + " " + target;
}

std::string operation_progress(const json& operation) {
  const json& steps = steps_of(operation);
  std::string percent;
  if (operation.is_object() && operation.contains("progress") && operation["progress"].is_number()) {
    double p = std::clamp(operation["progress"].get<double>(), 0.0, 1.0);
    percent = std::to_string(static_cast<int>(p * 100.0 + 0.5)) + "%";
  }
  if (steps.empty()) return percent.empty() ? cell(operation, "status") : percent;
  size_t index = steps.size() - 1;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (cell(steps[i], "state") != "done") {
      index = i;
      break;
    }
  }
  std::string text = "[" + std::to_string(index + 1) + "/" + std::to_string(steps.size()) + "] " +
                     cell(steps[index], "name") + " " + cell(steps[index], "state");
  if (!percent.empty()) text += ", " + percent;
  return text;
}

void ProgressPrinter::update(const json& operation) {
  if (tty_) {
    out_ << "\r\033[K" << operation_title(operation) << ": " << operation_progress(operation) << std::flush;
    line_open_ = true;
    return;
  }
  for (const auto& step : steps_of(operation)) {
    std::string name = cell(step, "name");
    std::string state = cell(step, "state");
    auto it = steps_.find(name);
    if (it != steps_.end() && it->second == state) continue;
    steps_[name] = state;
    out_ << operation_title(operation) << ": " << name << " " << state << "\n" << std::flush;
  }
}

void ProgressPrinter::finish(const json& operation) {
  update(operation);
  if (tty_) out_ << "\r\033[K";
  out_ << operation_title(operation) << ": " << status_text(operation) << "\n" << std::flush;
  line_open_ = false;
  steps_.clear();
}

void ProgressPrinter::note(const std::string& text) {
  end_line();
  out_ << text << "\n" << std::flush;
}

void ProgressPrinter::end_line() {
  if (line_open_) out_ << "\n" << std::flush;
  line_open_ = false;
}

json wait_for_operation(ApiClient& api, const std::string& id, ProgressPrinter& progress,
                        const WaitOptions& options) {
  MonotonicTime deadline = options.clock.monotonic_time() + options.timeout;
  std::chrono::milliseconds pause = std::min(options.first_interval, options.interval);
  json operation;
  try {
    while (true) {
      if (options.cancelled && options.cancelled())
        throw Error(ErrorKind::kUnavailable, "cancelled", "interrupted while waiting for operation " + id);
      operation = api.get("/v1/operations/" + path_segment(id));
      std::string status = cell(operation, "status");
      if (status != "running" && !status.empty()) break;
      progress.update(operation);
      if (options.clock.monotonic_time() >= deadline)
        throw Error(ErrorKind::kUnavailable, "timeout",
                    "timed out waiting for operation " + id + " (" + operation_title(operation) + ", at " +
                        operation_progress(operation) + ")");
      options.clock.sleep_for(pause);
      pause = std::min(options.interval, pause + pause / 4);
    }
  } catch (...) {
    progress.end_line();  // the error line that follows must start on its own line
    throw;
  }
  progress.finish(operation);
  if (cell(operation, "status") != "succeeded") {
    std::string code = "operation_failed";
    std::string message = operation_title(operation) + " " + cell(operation, "status");
    if (operation.contains("error") && operation["error"].is_object()) {
      if (!cell(operation["error"], "code").empty()) code = cell(operation["error"], "code");
      if (!cell(operation["error"], "message").empty()) message += ": " + cell(operation["error"], "message");
    }
    throw Error(ErrorKind::kInternal, code, message);
  }
  return operation;
}

}  // namespace byoc::cli
