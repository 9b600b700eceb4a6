#include "plan/maintenance_window.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <random>

#include <date/tz.h>

#include "base/clock.h"
#include "base/error.h"
#include "plan/maintenance_window_json.h"

namespace byoc::plan {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Instant at(const std::string& rfc3339) {
  auto t = parse_iso8601(rfc3339);
  EXPECT_TRUE(t) << rfc3339;
  return Instant{seconds{t ? t->seconds : 0}};
}

std::string text(const std::optional<Instant>& t) {
  return t ? format_rfc3339(t->time_since_epoch().count()) : "null";
}

MaintenanceWindow window(const std::string& zone, const std::vector<std::string>& days, const std::string& start,
                         int duration_minutes, json blackouts = json::array()) {
  return maintenance_window_from_json(
      {{"time_zone", zone},
       {"weekly", {{{"days", days}, {"start", start}, {"duration_minutes", duration_minutes}}}},
       {"blackouts", blackouts}});
}

// "opens_at..closes_at inside|outside"
std::string state(const MaintenanceWindow& w, const std::string& t) {
  WindowState s = window_at(w, at(t));
  return text(s.opens_at) + ".." + text(s.closes_at) + (s.inside ? " inside" : " outside");
}

// ---- The issue's example ----

TEST(MaintenanceWindow, TheIssuesExampleInLosAngeles) {
  auto w = maintenance_window_from_json(json::parse(R"({"time_zone":"America/Los_Angeles",
    "weekly":[{"days":["tue","thu"],"start":"01:00","duration_minutes":240}],
    "blackouts":[{"from":"2026-12-20","to":"2027-01-03"}]})"));
  // Tuesday 2026-12-08 01:00 PST is 09:00Z.
  EXPECT_EQ(state(w, "2026-12-08T08:59:59Z"), "2026-12-08T09:00:00Z..2026-12-08T13:00:00Z outside");
  EXPECT_EQ(state(w, "2026-12-08T09:00:00Z"), "2026-12-08T09:00:00Z..2026-12-08T13:00:00Z inside");
  EXPECT_EQ(state(w, "2026-12-08T12:59:59Z"), "2026-12-08T09:00:00Z..2026-12-08T13:00:00Z inside");
  EXPECT_EQ(state(w, "2026-12-08T13:00:00Z"), "2026-12-10T09:00:00Z..2026-12-10T13:00:00Z outside");
  // The blackout (both ends inclusive) skips Dec 22 to Jan 1; Tuesday Jan 5 is next.
  EXPECT_EQ(state(w, "2026-12-18T00:00:00Z"), "2027-01-05T09:00:00Z..2027-01-05T13:00:00Z outside");
}

TEST(MaintenanceWindow, AnInstantWithAnOffsetIsTheSameInstant) {
  auto w = window("America/Los_Angeles", {"tue"}, "01:00", 240);
  EXPECT_EQ(window_at(w, at("2026-12-08T02:00:00-08:00")), window_at(w, at("2026-12-08T10:00:00Z")));
}

// ---- DST, west of UTC (Los Angeles: 2027-03-14 02:00 → 03:00, 2026-11-01 02:00 → 01:00) ----

TEST(MaintenanceWindow, AStartInTheSpringGapMovesForwardByTheGap) {
  auto w = window("America/Los_Angeles", {"sun"}, "02:30", 60);
  // 02:30 does not exist: 03:30 PDT, 10:30Z; an hour of elapsed time.
  EXPECT_EQ(state(w, "2027-03-14T00:00:00Z"), "2027-03-14T10:30:00Z..2027-03-14T11:30:00Z outside");
  // A week earlier and later, 02:30 PST (10:30Z) and PDT (09:30Z).
  EXPECT_EQ(state(w, "2027-03-07T00:00:00Z"), "2027-03-07T10:30:00Z..2027-03-07T11:30:00Z outside");
  EXPECT_EQ(state(w, "2027-03-21T00:00:00Z"), "2027-03-21T09:30:00Z..2027-03-21T10:30:00Z outside");
}

TEST(MaintenanceWindow, AStartInTheRepeatedHourIsItsFirstOccurrence) {
  auto w = window("America/Los_Angeles", {"sun"}, "01:30", 120);
  // 01:30 PDT (08:30Z), not 01:30 PST (09:30Z); 120 elapsed minutes end at 02:30 PST.
  EXPECT_EQ(state(w, "2026-11-01T00:00:00Z"), "2026-11-01T08:30:00Z..2026-11-01T10:30:00Z outside");
}

TEST(MaintenanceWindow, ADurationIsElapsedTimeAcrossTheChange) {
  // Midnight to 04:00 on the wall is 3 hours that night; 240 minutes end at 05:00 PDT.
  auto w = window("America/Los_Angeles", {"sun"}, "00:00", 240);
  EXPECT_EQ(state(w, "2027-03-14T07:00:00Z"), "2027-03-14T08:00:00Z..2027-03-14T12:00:00Z outside");
}

// ---- DST, east of UTC ----

TEST(MaintenanceWindow, BerlinsChangesResolveAsRfc5545Says) {
  // 2027-03-28 02:00 CET → 03:00 CEST: 02:15 is 03:15 CEST, 01:15Z.
  EXPECT_EQ(state(window("Europe/Berlin", {"sun"}, "02:15", 30), "2027-03-27T12:00:00Z"),
            "2027-03-28T01:15:00Z..2027-03-28T01:45:00Z outside");
  // 2026-10-25 03:00 CEST → 02:00 CET: 02:30 first happens in CEST, 00:30Z.
  EXPECT_EQ(state(window("Europe/Berlin", {"sun"}, "02:30", 30), "2026-10-24T12:00:00Z"),
            "2026-10-25T00:30:00Z..2026-10-25T01:00:00Z outside");
}

TEST(MaintenanceWindow, SydneysChangesInTheSouthernSpringAndAutumn) {
  // 2026-10-04 02:00 AEST → 03:00 AEDT: 02:30 is 03:30 AEDT (+11), 16:30Z the day before.
  EXPECT_EQ(state(window("Australia/Sydney", {"sun"}, "02:30", 60), "2026-10-03T00:00:00Z"),
            "2026-10-03T16:30:00Z..2026-10-03T17:30:00Z outside");
  // 2027-04-04 03:00 AEDT → 02:00 AEST: 02:30 first in AEDT, 15:30Z the day before.
  EXPECT_EQ(state(window("Australia/Sydney", {"sun"}, "02:30", 60), "2027-04-03T00:00:00Z"),
            "2027-04-03T15:30:00Z..2027-04-03T16:30:00Z outside");
}

TEST(MaintenanceWindow, AHalfHourGapMovesTheStartByHalfAnHour) {
  // Lord Howe Island: 2026-10-04 02:00 → 02:30 (+10:30 → +11). 02:10 is 02:40, 15:40Z the day before.
  EXPECT_EQ(state(window("Australia/Lord_Howe", {"sun"}, "02:10", 30), "2026-10-03T00:00:00Z"),
            "2026-10-03T15:40:00Z..2026-10-03T16:10:00Z outside");
}

// ---- Blackouts and merging ----

TEST(MaintenanceWindow, ABlackoutSkipsWindowsOpeningOnItsDatesBothEndsIncluded) {
  auto w = window("Europe/Berlin", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "23:00", 120,
                  {{{"from", "2026-12-10"}, {"to", "2026-12-12"}}});
  // Dec 9 23:00 CET opens before the blackout and runs into it: kept.
  EXPECT_EQ(state(w, "2026-12-09T23:00:00Z"), "2026-12-09T22:00:00Z..2026-12-10T00:00:00Z inside");
  // Dec 10, 11 and 12 are skipped; Dec 13 opens.
  EXPECT_EQ(state(w, "2026-12-10T00:00:00Z"), "2026-12-13T22:00:00Z..2026-12-14T00:00:00Z outside");
}

TEST(MaintenanceWindow, OverlappingAndTouchingWindowsAreOne) {
  auto w = maintenance_window_from_json(json::parse(R"({"time_zone":"UTC","weekly":[
    {"days":["mon"],"start":"01:00","duration_minutes":120},
    {"days":["mon"],"start":"02:00","duration_minutes":120},
    {"days":["mon"],"start":"04:00","duration_minutes":60},
    {"days":["sun"],"start":"23:00","duration_minutes":120}]})"));
  // Sunday 23:00 to Monday 05:00, one window (2026-12-06 is a Sunday).
  EXPECT_EQ(state(w, "2026-12-07T03:00:00Z"), "2026-12-06T23:00:00Z..2026-12-07T05:00:00Z inside");
  EXPECT_EQ(state(w, "2026-12-06T12:00:00Z"), "2026-12-06T23:00:00Z..2026-12-07T05:00:00Z outside");
}

TEST(MaintenanceWindow, AlwaysOpenHasNoKnownEnds) {
  auto w = window("Asia/Kolkata", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "00:00", 1440);
  WindowState s = window_at(w, at("2026-12-08T10:00:00Z"));
  EXPECT_TRUE(s.inside);
  EXPECT_FALSE(s.opens_at);
  EXPECT_FALSE(s.closes_at);
  EXPECT_TRUE(drain_fits(s, at("2026-12-08T10:00:00Z"), hours{24 * 365}));
}

TEST(MaintenanceWindow, NoOpeningWithinTheHorizonIsSaid) {
  json blackouts = json::array();
  for (int year = 2026; year <= 2029; ++year) {
    blackouts.push_back({{"from", std::to_string(year) + "-01-01"}, {"to", std::to_string(year) + "-12-31"}});
  }
  WindowState s = window_at(window("UTC", {"mon"}, "00:00", 60, blackouts), at("2026-06-01T00:00:00Z"));
  EXPECT_EQ(s, WindowState{});
}

TEST(MaintenanceWindow, ADrainFitsWhenItEndsByTheClose) {
  auto w = window("UTC", {"tue"}, "01:00", 60);  // 2026-12-08 01:00–02:00
  Instant t = at("2026-12-08T01:30:00Z");
  WindowState s = window_at(w, t);
  EXPECT_TRUE(drain_fits(s, t, minutes{30}));
  EXPECT_FALSE(drain_fits(s, t, minutes{30} + seconds{1}));
  EXPECT_TRUE(drain_fits(s, t, seconds{0}));
  Instant outside = at("2026-12-08T02:00:00Z");
  EXPECT_FALSE(drain_fits(window_at(w, outside), outside, seconds{0}));
}

TEST(MaintenanceWindow, ACalendarAnswersOnlyWithinItsSpan) {
  auto w = window("UTC", {"tue"}, "01:00", 60);
  WindowCalendar c(w, at("2026-12-01T00:00:00Z"), at("2026-12-31T00:00:00Z"));
  EXPECT_EQ(c.intervals().size(), 5u);  // Dec 1, 8, 15, 22, 29
  EXPECT_THROW(c.at(at("2026-12-31T00:00:00Z")), std::out_of_range);
  EXPECT_THROW(c.at(at("2026-11-30T23:59:59Z")), std::out_of_range);
  // An interval cut by the span has that end unknown.
  WindowCalendar cut(w, at("2026-12-01T01:30:00Z"), at("2026-12-08T01:30:00Z"));
  ASSERT_EQ(cut.intervals().size(), 2u);
  EXPECT_FALSE(cut.intervals()[0].opens);
  EXPECT_EQ(text(cut.intervals()[0].closes), "2026-12-01T02:00:00Z");
  EXPECT_EQ(text(cut.intervals()[1].opens), "2026-12-08T01:00:00Z");
  EXPECT_FALSE(cut.intervals()[1].closes);
}

// ---- The format ----

TEST(MaintenanceWindowJson, RoundTrips) {
  json j = json::parse(R"({"time_zone":"America/St_Johns","weekly":[
    {"days":["sat","sun"],"start":"22:45","duration_minutes":1440},
    {"days":["wed"],"start":"00:00","duration_minutes":30}],
    "blackouts":[{"from":"2026-02-28","to":"2026-03-01"}]})");
  EXPECT_EQ(to_json(maintenance_window_from_json(j)), j);
  // blackouts may be left out; they come back empty.
  json no_blackouts = {{"time_zone", "UTC"},
                       {"weekly", {{{"days", {"mon"}}, {"start", "01:00"}, {"duration_minutes", 60}}}}};
  json expected = no_blackouts;
  expected["blackouts"] = json::array();
  EXPECT_EQ(to_json(maintenance_window_from_json(no_blackouts)), expected);
}

TEST(MaintenanceWindowJson, EveryMistakeNamesItsField) {
  struct Case {
    std::string body;
    std::string field;
    std::string code;
  };
  const std::string rule = R"({"days":["mon"],"start":"01:00","duration_minutes":60})";
  std::string sixteen_rules = "[" + rule;
  for (int i = 1; i < 15; ++i) sixteen_rules += "," + rule;
  sixteen_rules += "]";
  std::string many_blackouts = "[";
  for (int i = 0; i < 33; ++i) many_blackouts += std::string(i ? "," : "") + R"({"from":"2027-01-01","to":"2027-01-02"})";
  many_blackouts += "]";
  std::vector<Case> cases = {
      {R"([])", "", "invalid_type"},
      {R"({"weekly":[)" + rule + "]}", "time_zone", "missing_field"},
      {R"({"time_zone":"Mars/Olympus","weekly":[)" + rule + "]}", "time_zone", "unknown_time_zone"},
      {R"({"time_zone":"UTC"})", "weekly", "missing_field"},
      {R"({"time_zone":"UTC","weekly":[]})", "weekly", "invalid_value"},
      {R"({"time_zone":"UTC","weekly":{}})", "weekly", "invalid_type"},
      {R"({"time_zone":"UTC","weekly":)" + sixteen_rules + "}", "weekly", "too_many"},
      {R"({"time_zone":"UTC","weekly":[)" + rule + R"(],"owner":"x"})", "owner", "unknown_field"},
      {R"({"time_zone":"UTC","weekly":[{"days":[],"start":"01:00","duration_minutes":60}]})", "weekly[0].days",
       "invalid_value"},
      {R"({"time_zone":"UTC","weekly":[{"days":["Tue"],"start":"01:00","duration_minutes":60}]})",
       "weekly[0].days[0]", "invalid_day"},
      {R"({"time_zone":"UTC","weekly":[{"days":["tue","tue"],"start":"01:00","duration_minutes":60}]})",
       "weekly[0].days[1]", "duplicate_value"},
      {R"({"time_zone":"UTC","weekly":[{"days":["tue"],"start":"1:00","duration_minutes":60}]})", "weekly[0].start",
       "invalid_time"},
      {R"({"time_zone":"UTC","weekly":[{"days":["tue"],"start":"24:00","duration_minutes":60}]})", "weekly[0].start",
       "invalid_time"},
      {R"({"time_zone":"UTC","weekly":[{"days":["tue"],"start":"01:00","duration_minutes":29}]})",
       "weekly[0].duration_minutes", "out_of_range"},
      {R"({"time_zone":"UTC","weekly":[{"days":["tue"],"start":"01:00","duration_minutes":1441}]})",
       "weekly[0].duration_minutes", "out_of_range"},
      {R"({"time_zone":"UTC","weekly":[{"days":["tue"],"start":"01:00","duration_minutes":"60"}]})",
       "weekly[0].duration_minutes", "invalid_type"},
      {R"({"time_zone":"UTC","weekly":[{"days":["tue"],"start":"01:00"}]})", "weekly[0].duration_minutes",
       "missing_field"},
      {R"({"time_zone":"UTC","weekly":[)" + rule + R"(],"blackouts":[{"from":"2027-01-02","to":"2027-01-01"}]})",
       "blackouts[0].to", "invalid_range"},
      {R"({"time_zone":"UTC","weekly":[)" + rule + R"(],"blackouts":[{"from":"2027-01-01","to":"2028-01-02"}]})",
       "blackouts[0].to", "out_of_range"},
      {R"({"time_zone":"UTC","weekly":[)" + rule + R"(],"blackouts":[{"from":"2026-02-29","to":"2026-03-01"}]})",
       "blackouts[0].from", "invalid_date"},
      {R"({"time_zone":"UTC","weekly":[)" + rule + R"(],"blackouts":[{"from":"2026-1-01","to":"2026-03-01"}]})",
       "blackouts[0].from", "invalid_date"},
      {R"({"time_zone":"UTC","weekly":[)" + rule + R"(],"blackouts":)" + many_blackouts + "}", "blackouts",
       "too_many"},
  };
  for (const Case& c : cases) {
    try {
      maintenance_window_from_json(json::parse(c.body));
      ADD_FAILURE() << "accepted: " << c.body;
    } catch (const Error& e) {
      EXPECT_EQ(e.field(), c.field) << c.body << ": " << e.what();
      EXPECT_EQ(e.code(), c.code) << c.body << ": " << e.what();
      EXPECT_EQ(e.http_status(), 422) << c.body;
    }
  }
  // Nested in a larger document, the field says where.
  try {
    maintenance_window_from_json(json::parse(R"({"time_zone":"UTC","weekly":[{"days":["xyz"]}]})"), "window");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "window.weekly[0].days[0]");
    EXPECT_THAT(e.what(), ::testing::StartsWith("window: "));
  }
}

// ---- Against an independent reference ----
//
// glibc's localtime_r (its own reading of the same zoneinfo) and a brute
// force over openings stand in for the calendar, over random zones east and
// west of UTC (whole, half and three-quarter hour offsets), random rules and
// blackouts, and instants drawn near each zone's clock changes.

class GlibcZone {
 public:
  explicit GlibcZone(const std::string& name) {
    const char* old = std::getenv("TZ");
    saved_ = old ? std::optional<std::string>(old) : std::nullopt;
    setenv("TZ", (":" + name).c_str(), 1);
    tzset();
  }
  ~GlibcZone() {
    if (saved_) {
      setenv("TZ", saved_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  int64_t offset(int64_t s) const {
    std::time_t t = s;
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
  }
  int64_t local(int64_t s) const { return s + offset(s); }
  // RFC 5545: the first instant showing `wall`; in a gap, `wall` read with
  // the offset before the gap. Offsets a day and a half either side bracket
  // the only change near it.
  int64_t resolve(int64_t wall) const {
    int64_t before = offset(wall - 38 * 3600);
    int64_t after = offset(wall + 36 * 3600);
    std::optional<int64_t> first;
    for (int64_t off : {before, after}) {
      if (local(wall - off) == wall && (!first || wall - off < *first)) first = wall - off;
    }
    return first ? *first : wall - before;
  }

 private:
  std::optional<std::string> saved_;
};

struct Reference {
  std::vector<std::pair<int64_t, int64_t>> windows;  // merged
  int64_t from = 0;
  int64_t to = 0;  // of the instants the enumeration is complete for
};

Reference reference(const MaintenanceWindow& w, const GlibcZone& zone, int64_t t) {
  int64_t first_day = zone.local(t) / 86400 - 4;
  int64_t last_day = first_day + 66;
  std::vector<std::pair<int64_t, int64_t>> openings;
  for (int64_t day = first_day; day <= last_day; ++day) {
    std::chrono::sys_days date{std::chrono::days{day}};
    bool blacked_out = false;
    for (const Blackout& b : w.blackouts) {
      blacked_out = blacked_out || (std::chrono::sys_days{b.from} <= date && date <= std::chrono::sys_days{b.to});
    }
    if (blacked_out) continue;
    std::chrono::weekday weekday{date};
    for (const WeeklyRule& r : w.weekly) {
      if (std::find(r.days.begin(), r.days.end(), weekday) == r.days.end()) continue;
      int64_t opens = zone.resolve(day * 86400 + r.start.count() * 60);
      openings.emplace_back(opens, opens + r.duration.count() * 60);
    }
  }
  std::sort(openings.begin(), openings.end());
  Reference ref;
  for (const auto& o : openings) {
    if (!ref.windows.empty() && o.first <= ref.windows.back().second) {
      ref.windows.back().second = std::max(ref.windows.back().second, o.second);
    } else {
      ref.windows.push_back(o);
    }
  }
  // Openings before first_day close by the start of first_day + 2 (a day
  // long, offsets under a day); after last_day they open after its start - 1.
  ref.from = (first_day + 2) * 86400;
  ref.to = (last_day - 1) * 86400;
  return ref;
}

TEST(MaintenanceWindowProperty, AgreesWithABruteForceOverGlibcsZoneReading) {
  const std::vector<std::string> zones = {
      "America/Los_Angeles", "America/New_York", "America/St_Johns", "America/Sao_Paulo", "America/Santiago",
      "Europe/London",       "Europe/Berlin",    "Asia/Kolkata",     "Asia/Kathmandu",    "Australia/Sydney",
      "Australia/Lord_Howe", "Pacific/Chatham",  "Pacific/Auckland", "UTC"};
  const char* names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::mt19937_64 rng(20261207);
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int checked = 0, inside = 0, near_changes = 0;
  for (int round = 0; round < 600; ++round) {
    const std::string& zone_name = zones[uniform(0, zones.size() - 1)];
    json weekly = json::array();
    for (int r = 0, n = static_cast<int>(uniform(1, 3)); r < n; ++r) {
      json days = json::array();
      for (int d = 0; d < 7; ++d) {
        if (uniform(0, 2) == 0) days.push_back(names[d]);
      }
      if (days.empty()) days.push_back(names[uniform(0, 6)]);
      // Starts cluster in the small hours, where clocks change.
      int64_t start = uniform(0, 1) ? uniform(0, 4 * 60) : uniform(0, 24 * 60 - 1);
      char hhmm[8];
      std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", static_cast<int>(start / 60), static_cast<int>(start % 60));
      weekly.push_back({{"days", days}, {"start", hhmm}, {"duration_minutes", uniform(30, 1440)}});
    }
    // An instant in 2026–2028, or within two days of one of the zone's changes.
    int64_t t = uniform(1767225600, 1830297600);
    const date::time_zone* tz = date::locate_zone(zone_name);
    if (uniform(0, 1)) {
      auto info = tz->get_info(date::sys_seconds{seconds{t}});
      int64_t change = info.end.time_since_epoch().count();
      if (change < 1893456000) {
        t = change + uniform(-2 * 86400, 2 * 86400);
        ++near_changes;
      }
    }
    json blackouts = json::array();
    for (int b = 0, n = static_cast<int>(uniform(0, 2)); b < n; ++b) {
      std::chrono::sys_days from{std::chrono::days{t / 86400 + uniform(-5, 30)}};
      std::chrono::year_month_day f{from}, to{from + std::chrono::days{uniform(0, 9)}};
      char a[16], z[16];
      std::snprintf(a, sizeof a, "%04d-%02u-%02u", int(f.year()), unsigned(f.month()), unsigned(f.day()));
      std::snprintf(z, sizeof z, "%04d-%02u-%02u", int(to.year()), unsigned(to.month()), unsigned(to.day()));
      blackouts.push_back({{"from", a}, {"to", z}});
    }
    MaintenanceWindow w = maintenance_window_from_json(
        {{"time_zone", zone_name}, {"weekly", weekly}, {"blackouts", blackouts}});
    GlibcZone glibc(zone_name);
    Reference ref = reference(w, glibc, t);
    WindowState got = window_at(w, Instant{seconds{t}});
    std::string what = zone_name + " at " + format_rfc3339(t) + " " + to_json(w).dump();

    auto containing = std::find_if(ref.windows.begin(), ref.windows.end(),
                                   [t](const auto& x) { return x.first <= t && t < x.second; });
    auto next = std::find_if(ref.windows.begin(), ref.windows.end(), [t](const auto& x) { return x.first > t; });
    auto expected = containing != ref.windows.end() ? containing : next;
    ASSERT_EQ(got.inside, containing != ref.windows.end()) << what;
    if (got.inside) ++inside;
    if (expected == ref.windows.end()) {
      // Nothing opens in the reference's range: nor may the calendar say so.
      EXPECT_TRUE(!got.opens_at || got.opens_at->time_since_epoch().count() >= ref.to) << what;
      continue;
    }
    if (expected->first >= ref.from) {
      ASSERT_TRUE(got.opens_at) << what;
      EXPECT_EQ(format_rfc3339(got.opens_at->time_since_epoch().count()), format_rfc3339(expected->first)) << what;
    }
    if (expected->second <= ref.to) {
      ASSERT_TRUE(got.closes_at) << what;
      EXPECT_EQ(format_rfc3339(got.closes_at->time_since_epoch().count()), format_rfc3339(expected->second)) << what;
    }
    // fits follows from the close.
    int64_t drain = uniform(0, 1500) * 60;
    bool fits = got.inside && (!got.closes_at || t + drain <= got.closes_at->time_since_epoch().count());
    EXPECT_EQ(drain_fits(got, Instant{seconds{t}}, seconds{drain}), fits) << what;
    // The JSON form reads back to the same window.
    EXPECT_EQ(maintenance_window_from_json(to_json(w)), w);
    ++checked;
  }
  // The draw reached what it is meant to.
  EXPECT_GT(checked, 500);
  EXPECT_GT(inside, 100);
  EXPECT_GT(near_changes, 150);
}

}  // namespace
}  // namespace byoc::plan
