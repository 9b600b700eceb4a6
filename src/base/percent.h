// Percent-decoding (RFC 3986 §2.1) of one URI component, optionally with
// '+' as a space (application/x-www-form-urlencoded). One decoder for every
// reader of a request target — the server's router and the support gateway's
// check — so that both read a target as ClickHouse and browsers do.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace byoc {

// The value of one hex digit (either case), -1 for anything else.
int hex_digit_value(char c);

// The decoded bytes; nullopt for a '%' not followed by two hex digits.
// The bytes are not checked further (UTF-8, controls): callers decide.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

}  // namespace byoc
