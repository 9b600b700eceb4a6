// UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing
// above U+10FFFF. Request paths, queries and header values are checked with
// it before anything compares, stores or renders them.
#pragma once

#include <string_view>

namespace byoc::utf8 {

bool valid(std::string_view bytes);

}  // namespace byoc::utf8
