#include "plan/maintenance_window.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <date/tz.h>

#include "base/error.h"

namespace byoc::plan {

namespace {

using std::chrono::days;
using std::chrono::seconds;

std::string rule_field(size_t i, const char* name) { return "weekly[" + std::to_string(i) + "]." + name; }

const date::time_zone* locate(const std::string& name) {
  if (name.empty()) throw Error::Invalid("missing_field", "time_zone is required (an IANA name)", "time_zone");
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw Error::Invalid("unknown_time_zone",
                         "time_zone '" + name + "' is not in the IANA time zone database (e.g. Europe/Berlin)",
                         "time_zone");
  }
}

int64_t day_number(const std::chrono::year_month_day& d) {
  return std::chrono::sys_days{d}.time_since_epoch().count();
}

// When a local wall-clock time happens, as RFC 5545 reads it: the offset in
// force just before the time names it. In a gap that is the offset before
// the gap (the start moves forward by the gap's length); in a repeated hour
// it is the earlier offset (the first occurrence).
Instant resolve(const date::time_zone& zone, date::local_seconds local) {
  date::local_info info = zone.get_info(local);
  return Instant{local.time_since_epoch() - info.first.offset};
}

}  // namespace

void validate(const MaintenanceWindow& w, bool known_zone) {
  if (known_zone) locate(w.time_zone);
  else if (w.time_zone.empty()) throw Error::Invalid("missing_field", "time_zone is required", "time_zone");
  if (w.weekly.empty()) {
    throw Error::Invalid("invalid_value", "weekly needs at least one rule (every day all day is {\"days\":[all seven],"
                         "\"start\":\"00:00\",\"duration_minutes\":1440})", "weekly");
  }
  if (w.weekly.size() > kMaxWeeklyRules) {
    throw Error::Invalid("too_many", "weekly has at most " + std::to_string(kMaxWeeklyRules) + " rules", "weekly");
  }
  for (size_t i = 0; i < w.weekly.size(); ++i) {
    const WeeklyRule& r = w.weekly[i];
    if (r.days.empty()) throw Error::Invalid("invalid_value", rule_field(i, "days") + " can't be empty", rule_field(i, "days"));
    std::set<unsigned> seen;
    for (auto d : r.days) {
      if (!d.ok() || !seen.insert(d.c_encoding()).second) {
        throw Error::Invalid("invalid_value", rule_field(i, "days") + " must name distinct days", rule_field(i, "days"));
      }
    }
    if (r.start < std::chrono::minutes{0} || r.start >= days{1}) {
      throw Error::Invalid("out_of_range", rule_field(i, "start") + " must lie in 00:00–23:59", rule_field(i, "start"));
    }
    if (r.duration < kMinWindowDuration || r.duration > kMaxWindowDuration) {
      throw Error::Invalid("out_of_range", rule_field(i, "duration_minutes") + " must be 30 to 1440 (24 h)",
                           rule_field(i, "duration_minutes"));
    }
  }
  if (w.blackouts.size() > kMaxBlackouts) {
    throw Error::Invalid("too_many", "blackouts has at most " + std::to_string(kMaxBlackouts) + " ranges", "blackouts");
  }
  for (size_t i = 0; i < w.blackouts.size(); ++i) {
    const Blackout& b = w.blackouts[i];
    std::string field = "blackouts[" + std::to_string(i) + "]";
    if (!b.from.ok()) throw Error::Invalid("invalid_date", field + ".from is not a date", field + ".from");
    if (!b.to.ok()) throw Error::Invalid("invalid_date", field + ".to is not a date", field + ".to");
    int64_t length = day_number(b.to) - day_number(b.from) + 1;
    if (length < 1) throw Error::Invalid("invalid_range", field + ".to comes before its from", field + ".to");
    if (length > kMaxBlackoutLength.count()) {
      throw Error::Invalid("out_of_range", field + " spans more than 366 days", field + ".to");
    }
  }
}

WindowCalendar::WindowCalendar(const MaintenanceWindow& w, Instant from, Instant to) : from_(from), to_(to) {
  validate(w);
  if (to <= from) throw std::invalid_argument("WindowCalendar: an empty span");
  const date::time_zone& zone = *locate(w.time_zone);
  std::vector<std::pair<int64_t, int64_t>> blackouts;
  for (const Blackout& b : w.blackouts) blackouts.emplace_back(day_number(b.from), day_number(b.to));

  // Every opening that can reach [from, to): a window lasts at most a day and
  // UTC offsets differ by less than a day, so two local days either side do.
  auto first_day = date::floor<date::days>(zone.to_local(from)) - date::days{2};
  auto last_day = date::floor<date::days>(zone.to_local(to)) + date::days{1};
  std::vector<std::pair<Instant, Instant>> openings;
  for (auto day = first_day; day <= last_day; day += date::days{1}) {
    int64_t n = day.time_since_epoch().count();
    bool blacked_out = std::any_of(blackouts.begin(), blackouts.end(),
                                   [n](const auto& b) { return b.first <= n && n <= b.second; });
    if (blacked_out) continue;
    std::chrono::weekday weekday{std::chrono::sys_days{days{n}}};
    for (const WeeklyRule& r : w.weekly) {
      if (std::find(r.days.begin(), r.days.end(), weekday) == r.days.end()) continue;
      Instant opens = resolve(zone, date::local_seconds{day} + std::chrono::minutes{r.start.count()});
      openings.emplace_back(opens, opens + r.duration);
    }
  }
  std::sort(openings.begin(), openings.end());

  // Overlapping or touching openings are one window.
  std::vector<std::pair<Instant, Instant>> merged;
  for (const auto& o : openings) {
    if (!merged.empty() && o.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, o.second);
    } else {
      merged.push_back(o);
    }
  }
  // A window that opened before `from` may have been joined by openings not
  // enumerated; one that closes after `to` likewise. Those ends are unknown.
  for (const auto& m : merged) {
    if (m.second <= from || m.first >= to) continue;
    WindowInterval i;
    if (m.first >= from) i.opens = m.first;
    if (m.second <= to) i.closes = m.second;
    intervals_.push_back(i);
  }
}

WindowState WindowCalendar::at(Instant t) const {
  if (t < from_ || t >= to_) throw std::out_of_range("WindowCalendar::at: outside the span it was built for");
  // The first window not closed by t (they are disjoint and in order; only
  // the last can have an unknown end).
  auto it = std::partition_point(intervals_.begin(), intervals_.end(),
                                 [t](const WindowInterval& i) { return i.closes && *i.closes <= t; });
  if (it == intervals_.end()) return {};
  WindowState s;
  s.inside = !it->opens || *it->opens <= t;
  s.opens_at = it->opens;
  s.closes_at = it->closes;
  return s;
}

WindowState window_at(const MaintenanceWindow& w, Instant t) {
  return WindowCalendar(w, t - kWindowHorizon, t + kWindowHorizon).at(t);
}

bool drain_fits(const WindowState& s, Instant start, std::chrono::seconds drain) {
  if (!s.inside) return false;
  return !s.closes_at || start + drain <= *s.closes_at;
}

}  // namespace byoc::plan
