// Maintenance windows: when a customer lets its services be disturbed. Pure
// arithmetic over the IANA time zone database (no clock, no I/O beyond the
// read-only zoneinfo); docs/maintenance.md has the format and semantics.
//
// A window is weekly rules (days, a local start time, an elapsed duration) in
// one time zone, minus blackout date ranges. Local times resolve as RFC 5545
// does: a start in a DST gap moves forward by the gap's length, a start in a
// repeated hour is its first occurrence. A rule's opening is skipped when the
// local date it opens on lies in a blackout (both ends inclusive). Openings
// that overlap or touch are one window.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace byoc::plan {

using Instant = std::chrono::sys_seconds;

inline constexpr std::chrono::minutes kMinWindowDuration{30};
inline constexpr std::chrono::minutes kMaxWindowDuration{24 * 60};
inline constexpr std::size_t kMaxWeeklyRules = 14;
inline constexpr std::size_t kMaxBlackouts = 32;
inline constexpr std::chrono::days kMaxBlackoutLength{366};
// How far from a given instant window_at looks, both ways. A window that
// stays open past it (every day, all day) reports that end as unknown.
inline constexpr std::chrono::days kWindowHorizon{731};

struct WeeklyRule {
  std::vector<std::chrono::weekday> days;  // distinct, at least one
  std::chrono::minutes start{0};           // local time of day, [00:00, 24:00)
  std::chrono::minutes duration{0};        // elapsed, [30 min, 24 h]
  bool operator==(const WeeklyRule&) const = default;
};

struct Blackout {
  std::chrono::year_month_day from;  // local dates, both inclusive
  std::chrono::year_month_day to;
  bool operator==(const Blackout&) const = default;
};

struct MaintenanceWindow {
  std::string time_zone;  // IANA name, e.g. "America/Los_Angeles"
  std::vector<WeeklyRule> weekly;
  std::vector<Blackout> blackouts;
  bool operator==(const MaintenanceWindow&) const = default;
};

// One window, merged, as instants: open on [opens, closes). An end that
// lies beyond the span it was computed for is unknown (nullopt).
struct WindowInterval {
  std::optional<Instant> opens;
  std::optional<Instant> closes;
  bool operator==(const WindowInterval&) const = default;
};

// Where an instant stands: inside a window (then its opening and closing)
// or not (then the next window's, both nullopt if none opens in the span).
struct WindowState {
  bool inside = false;
  std::optional<Instant> opens_at;
  std::optional<Instant> closes_at;
  bool operator==(const WindowState&) const = default;
};

// Throws Error::Invalid (field "time_zone", "weekly[i].days", …) unless the
// window is within the limits above and — if `known_zone` — its time zone is
// in this machine's tz database. (A window stored by another server is read
// without that check: a zone this one lacks must not make the record
// unreadable; asking the calendar about it throws instead.)
void validate(const MaintenanceWindow& window, bool known_zone = true);

// The windows of `window` that meet [from, to), merged, in order; built once
// and asked many times (the upgrader asks at every step). Throws as
// validate() does.
class WindowCalendar {
 public:
  WindowCalendar(const MaintenanceWindow& window, Instant from, Instant to);

  // Where `t` stands; t must lie in [from, to) (throws std::out_of_range).
  WindowState at(Instant t) const;
  const std::vector<WindowInterval>& intervals() const { return intervals_; }

 private:
  Instant from_;
  Instant to_;
  std::vector<WindowInterval> intervals_;
};

// at(t) on a calendar spanning t ± kWindowHorizon.
WindowState window_at(const MaintenanceWindow& window, Instant t);

// Whether a drain of `drain` started at `start` ends by the time the window
// `state` (for `start`) closes; false outside a window. An unknown closing
// lies beyond the horizon, which any drain fits.
bool drain_fits(const WindowState& state, Instant start, std::chrono::seconds drain);

}  // namespace byoc::plan
