#include "log_times.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>

namespace byoc::bench {
namespace {

bool digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int number(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// "YYYY?MM?DD?hh:mm:ss?fff", the separators as each program writes them.
std::optional<WallTime> parse_stamp(std::string_view s, bool utc) {
  if (!digits(s, 0, 4) || !digits(s, 5, 2) || !digits(s, 8, 2) || !digits(s, 11, 2) || !digits(s, 14, 2) ||
      !digits(s, 17, 2) || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = number(s, 0, 4) - 1900;
  tm.tm_mon = number(s, 5, 2) - 1;
  tm.tm_mday = number(s, 8, 2);
  tm.tm_hour = number(s, 11, 2);
  tm.tm_min = number(s, 14, 2);
  tm.tm_sec = number(s, 17, 2);
  tm.tm_isdst = -1;
  // ZooKeeper and ClickHouse write local time; byoc writes UTC.
  std::time_t seconds = utc ? ::timegm(&tm) : std::mktime(&tm);
  if (seconds == -1) return std::nullopt;
  int millis = digits(s, 20, 3) && (s[19] == '.' || s[19] == ',') ? number(s, 20, 3) : 0;
  return std::chrono::system_clock::from_time_t(seconds) + std::chrono::milliseconds(millis);
}

template <typename F>
void each_line(const std::string& log, F&& f) {
  size_t at = 0;
  while (at < log.size()) {
    size_t end = log.find('\n', at);
    if (end == std::string::npos) end = log.size();
    if (!f(std::string_view(log).substr(at, end - at))) return;
    at = end + 1;
  }
}

}  // namespace

std::optional<WallTime> line_time(std::string_view line) {
  if (!line.empty() && line.front() == '{') {
    // A JSON line (the access log, keys in any order): its "time" field.
    const std::string_view key = "\"time\":\"";
    auto at = line.find(key);
    return at == std::string_view::npos ? std::nullopt : parse_stamp(line.substr(at + key.size()), true);
  }
  if (line.size() < 19) return std::nullopt;
  return parse_stamp(line, line.size() > 10 && line[10] == 'T');
}

std::optional<WallTime> first_line_after(const std::string& log, std::string_view needle, WallTime after) {
  std::optional<WallTime> found;
  each_line(log, [&](std::string_view line) {
    if (line.find(needle) == std::string_view::npos) return true;
    auto t = line_time(line);
    if (!t || *t < after) return true;
    found = t;
    return false;
  });
  return found;
}

std::optional<WallTime> last_line_between(const std::string& log, std::string_view needle, WallTime after,
                                          WallTime before) {
  std::optional<WallTime> found;
  each_line(log, [&](std::string_view line) {
    if (line.find(needle) == std::string_view::npos) return true;
    auto t = line_time(line);
    if (t && *t >= after && *t < before) found = t;
    return true;
  });
  return found;
}

std::vector<AccessLine> access_lines(const std::string& log) {
  std::vector<AccessLine> out;
  each_line(log, [&](std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    auto answered = line_time(text);
    if (!j.is_object() || !answered) return true;
    AccessLine line;
    line.answered = *answered;
    auto micros = static_cast<long>(j.value("duration_ms", 0.0) * 1000.0);
    line.arrived = line.answered - std::chrono::microseconds(micros);
    line.method = j.value("method", "");
    line.route = j.value("route", "");
    line.status = j.value("status", 0);
    out.push_back(std::move(line));
    return true;
  });
  return out;
}

std::optional<long> offset_ms(WallTime origin, const std::optional<WallTime>& t) {
  if (!t) return std::nullopt;
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(*t - origin).count());
}

}  // namespace byoc::bench
