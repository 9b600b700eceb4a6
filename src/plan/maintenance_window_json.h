// A maintenance window as JSON, the one form of the API, the CLI and files:
//   {"time_zone":"America/Los_Angeles",
//    "weekly":[{"days":["tue","thu"],"start":"01:00","duration_minutes":240}],
//    "blackouts":[{"from":"2026-12-20","to":"2027-01-03"}]}
// blackouts may be left out. Parsing validates it whole (validate() in
// maintenance_window.h) and throws Error::Invalid naming the field, prefixed
// by `where` ("maintenance.window.weekly[0].start").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "plan/maintenance_window.h"

namespace byoc::plan {

// `known_zone`: as validate()'s (false only for windows read back from storage).
MaintenanceWindow maintenance_window_from_json(const nlohmann::json& j, const std::string& where = "",
                                               bool known_zone = true);
nlohmann::json to_json(const MaintenanceWindow& w);

// `byoc plan window`'s answer: {"inside","opens_at","closes_at","fits"},
// instants as RFC 3339 UTC, an unknown one as null.
nlohmann::json window_answer_json(const WindowState& s, bool fits);

}  // namespace byoc::plan
