#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>

namespace byoc::log {

void init(const std::string& component) {
  auto logger = spdlog::stderr_logger_mt(component);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ " + component + ": %v", spdlog::pattern_time_type::utc);
  const char* level = std::getenv("BYOC_LOG_LEVEL");
  logger->set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace byoc::log
