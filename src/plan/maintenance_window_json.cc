#include "plan/maintenance_window_json.h"

#include <array>
#include <charconv>
#include <cstdio>

#include "base/clock.h"
#include "base/error.h"
#include "plan/json_fields.h"

namespace byoc::plan {

namespace {

using nlohmann::json;

constexpr std::array<const char*, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// Exactly `width` ASCII digits at text[pos].
bool digits(const std::string& text, size_t pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return std::from_chars(text.data() + pos, text.data() + pos + width, out).ec == std::errc{};
}

std::chrono::minutes parse_start(const std::string& text, const std::string& field) {
  int h = 0, m = 0;
  if (text.size() != 5 || !digits(text, 0, 2, h) || text[2] != ':' || !digits(text, 3, 2, m) || h > 23 || m > 59) {
    throw Error::Invalid("invalid_time", field + " must be a local time HH:MM (00:00–23:59), not '" + text + "'", field);
  }
  return std::chrono::hours{h} + std::chrono::minutes{m};
}

std::chrono::year_month_day parse_date(const json& obj, const char* key, const std::string& field) {
  std::string text = get_string(obj, key, field);
  int y = 0, mo = 0, d = 0;
  std::chrono::year_month_day date{};
  if (text.size() == 10 && digits(text, 0, 4, y) && text[4] == '-' && digits(text, 5, 2, mo) && text[7] == '-' &&
      digits(text, 8, 2, d)) {
    date = std::chrono::year{y} / std::chrono::month{static_cast<unsigned>(mo)} / std::chrono::day{static_cast<unsigned>(d)};
  }
  if (!date.ok()) throw Error::Invalid("invalid_date", field + " must be a date YYYY-MM-DD, not '" + text + "'", field);
  return date;
}

const json& array_of_at_most(const json& obj, const char* key, size_t limit) {
  const json& list = obj.at(key);
  if (!list.is_array()) throw Error::Invalid("invalid_type", std::string(key) + " must be an array", key);
  if (list.size() > limit) {
    throw Error::Invalid("too_many", std::string(key) + " has at most " + std::to_string(limit) + " entries", key);
  }
  return list;
}

MaintenanceWindow parse(const json& j, bool known_zone) {
  require_object(j, "");
  only_fields(j, "", {"time_zone", "weekly", "blackouts"});
  MaintenanceWindow w;
  w.time_zone = get_string(j, "time_zone", "time_zone");
  if (!j.contains("weekly")) throw Error::Invalid("missing_field", "weekly is required", "weekly");
  const json& weekly = array_of_at_most(j, "weekly", kMaxWeeklyRules);
  for (size_t i = 0; i < weekly.size(); ++i) {
    std::string where = "weekly[" + std::to_string(i) + "]";
    const json& r = require_object(weekly[i], where);
    only_fields(r, where, {"days", "start", "duration_minutes"});
    WeeklyRule rule;
    auto names = get_string_list(r, "days", where + ".days", true, true);
    for (size_t k = 0; k < names.size(); ++k) {
      auto it = std::find(kDayNames.begin(), kDayNames.end(), names[k]);
      if (it == kDayNames.end()) {
        std::string f = where + ".days[" + std::to_string(k) + "]";
        throw Error::Invalid("invalid_day", f + " must be one of mon tue wed thu fri sat sun, not '" + names[k] + "'", f);
      }
      rule.days.emplace_back(static_cast<unsigned>(it - kDayNames.begin()));
    }
    rule.start = parse_start(get_string(r, "start", where + ".start"), where + ".start");
    rule.duration = std::chrono::minutes{
        get_count(r, "duration_minutes", where + ".duration_minutes", true, 0, true)};
    w.weekly.push_back(std::move(rule));
  }
  if (j.contains("blackouts")) {
    const json& blackouts = array_of_at_most(j, "blackouts", kMaxBlackouts);
    for (size_t i = 0; i < blackouts.size(); ++i) {
      std::string where = "blackouts[" + std::to_string(i) + "]";
      const json& b = require_object(blackouts[i], where);
      only_fields(b, where, {"from", "to"});
      w.blackouts.push_back({parse_date(b, "from", where + ".from"), parse_date(b, "to", where + ".to")});
    }
  }
  validate(w, known_zone);
  return w;
}

std::string format_date(const std::chrono::year_month_day& d) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return text;
}

json instant_json(const std::optional<Instant>& t) {
  if (!t) return nullptr;
  return format_rfc3339(t->time_since_epoch().count());
}

}  // namespace

MaintenanceWindow maintenance_window_from_json(const json& j, const std::string& where, bool known_zone) {
  if (where.empty()) return parse(j, known_zone);
  try {
    return parse(j, known_zone);
  } catch (const Error& e) {
    std::string field = e.field().empty() ? where : where + "." + e.field();
    throw Error(e.kind(), e.code(), where + ": " + e.what(), field);
  }
}

json to_json(const MaintenanceWindow& w) {
  json weekly = json::array();
  for (const WeeklyRule& r : w.weekly) {
    json days = json::array();
    for (auto d : r.days) days.push_back(kDayNames[d.c_encoding()]);
    char start[8];
    std::snprintf(start, sizeof start, "%02d:%02d", static_cast<int>(r.start.count() / 60),
                  static_cast<int>(r.start.count() % 60));
    weekly.push_back({{"days", days}, {"start", start}, {"duration_minutes", r.duration.count()}});
  }
  json blackouts = json::array();
  for (const Blackout& b : w.blackouts) blackouts.push_back({{"from", format_date(b.from)}, {"to", format_date(b.to)}});
  return {{"time_zone", w.time_zone}, {"weekly", weekly}, {"blackouts", blackouts}};
}

json window_answer_json(const WindowState& s, bool fits) {
  return {{"inside", s.inside}, {"opens_at", instant_json(s.opens_at)}, {"closes_at", instant_json(s.closes_at)},
          {"fits", fits}};
}

}  // namespace byoc::plan
