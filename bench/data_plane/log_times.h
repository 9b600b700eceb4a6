// Wall-clock instants read back from logs, to split byoc's measured cold
// start into its steps without touching the code that logs them: the
// server's access log, the agent's log, ZooKeeper's and ClickHouse's logs.
// Each line is timed by its leading timestamp, in any of the forms those
// programs write:
//   2026-12-04T18:16:19.123Z        byoc (spdlog, UTC)
//   {...,"time":"2026-12-04T18:16:19.123Z",...}  byoc server access log (answer time)
//   2026-12-04 18:16:19,123         ZooKeeper (log4j ISO8601, local time)
//   2026.12.04 18:16:19.123456      ClickHouse 18.16 (local time)
// Millisecond precision at best: good for steps of tens of milliseconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::bench {

using WallTime = std::chrono::system_clock::time_point;

// The timestamp a log line starts with (or its "time" field), if any.
std::optional<WallTime> line_time(std::string_view line);

// The time of the first line at or after `after` that contains `needle`.
std::optional<WallTime> first_line_after(const std::string& log, std::string_view needle, WallTime after);

// The time of the last line before `before` (and at or after `after`) that
// contains `needle`.
std::optional<WallTime> last_line_between(const std::string& log, std::string_view needle, WallTime after,
                                          WallTime before);

// One line of `byoc server --access-log`: when the request came in (answer
// time less its duration) and when it was answered.
struct AccessLine {
  WallTime arrived;
  WallTime answered;
  std::string method;
  std::string route;  // the route's pattern, e.g. /v1/operations/{id}
  int status = 0;
};
std::vector<AccessLine> access_lines(const std::string& log);

// Milliseconds from `origin` to `t`; nullopt when `t` is.
std::optional<long> offset_ms(WallTime origin, const std::optional<WallTime>& t);

}  // namespace byoc::bench
