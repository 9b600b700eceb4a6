// Reading fixed-shape text (timestamps, dates) one field at a time: each
// reader advances `pos` only past what it accepted. Header-only, pure.
#pragma once

#include <cstddef>
#include <string_view>

namespace byoc::scan {

// Exactly `n` ASCII digits at `pos`, as a number.
inline bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

// The character `c` at `pos`.
inline bool literal(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace byoc::scan
