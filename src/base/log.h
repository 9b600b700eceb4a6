// Logging: spdlog, one process-wide logger writing to stderr (or a file). Log
// lines never carry secrets: tokens, passwords and keys are not passed to the
// logger at all, not even redacted.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace byoc::log {

// `component` prefixes each line ("server", "agent", ...); level from
// BYOC_LOG_LEVEL (trace|debug|info|warn|error), default info.
void init(const std::string& component);

}  // namespace byoc::log
