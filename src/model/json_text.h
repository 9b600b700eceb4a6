// JSON text of the API's objects written straight into a string: the same
// bytes as model::to_json(x).dump() (keys in nlohmann's sorted order, the
// same escapes), without building a JSON tree per object — lists render one
// of these per item on every uncached GET.
#pragma once

#include <string>

#include "model/objects.h"

namespace byoc::model {

void append_json(std::string& out, const Environment& e);
void append_json(std::string& out, const Service& s, const std::string& environment_name);

// `value` as a JSON string literal, escaped as nlohmann::json::dump() does.
void append_json_string(std::string& out, const std::string& value);

}  // namespace byoc::model
