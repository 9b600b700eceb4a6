// The request target (RFC 9112 §3.2) taken apart: the path and the query,
// percent-decoded into bytes and validated before anything routes, compares,
// stores or renders them. A path or query that is not UTF-8 once decoded,
// holds a control character or a broken escape, or repeats a parameter is
// refused whole (400 invalid_path / invalid_query): a parser that guessed
// would read a request differently from a proxy or a log in front of it.
// Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace byoc::server {

struct RequestTarget {
  std::string path;                          // decoded, starts with '/'
  std::map<std::string, std::string> query;  // decoded; '+' is a space
};

// Accepts the origin form ("/a/b?x=1") and the absolute form
// ("https://host/a/b?x=1", whose authority is ignored) and, for OPTIONS,
// the asterisk form ("*", path "*"). Throws byoc::Error (400).
RequestTarget parse_request_target(std::string_view target);

}  // namespace byoc::server
