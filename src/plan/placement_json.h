// JSON forms of the placement planner's input, of a plan (its output) and of a previous plan given back for a
// re-placement; docs/placement.md documents both. Parsing validates everything and throws byoc::Error (invalid)
// naming the field at fault ("replicas[3].cpu_millis"); unknown fields are rejected so a typo can't pass silently.
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "plan/placement.h"

namespace byoc::plan {

PlacementInput placement_input_from_json(const nlohmann::json& j);

// A previous output of the planner; only "nodes" is read (the other output fields are accepted and ignored).
// Field names in errors start with "current.".
CurrentPlan current_plan_from_json(const nlohmann::json& j);

nlohmann::json to_json(const PlacementPlan& plan);

}  // namespace byoc::plan
