#include "server/request_target.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "base/error.h"
#include "base/percent.h"
#include "base/utf8.h"

namespace byoc::server {
namespace {

// Decoded bytes of one component, or nullopt when it can't be trusted.
std::optional<std::string> decode(std::string_view in, bool plus_is_space) {
  std::optional<std::string> decoded = percent_decode(in, plus_is_space);
  if (!decoded) return std::nullopt;
  const std::string& out = *decoded;
  if (!utf8::valid(out)) return std::nullopt;
  for (unsigned char ch : out)
    if (ch < 0x20 || ch == 0x7F) return std::nullopt;
  return out;
}

[[noreturn]] void bad_path(const std::string& why) { throw Error::BadRequest("invalid_path", why, "path"); }
[[noreturn]] void bad_query(const std::string& why) { throw Error::BadRequest("invalid_query", why, "query"); }

}  // namespace

RequestTarget parse_request_target(std::string_view target) {
  RequestTarget out;
  if (target == "*") {
    out.path = "*";
    return out;
  }
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && std::equal(scheme.begin(), scheme.end(), target.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      auto slash = target.find_first_of("/?", scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      if (!target.empty() && target.front() == '?') bad_path("the path must start with '/'");
      break;
    }
  }
  if (target.empty() || target.front() != '/') bad_path("the path must start with '/'");
  if (target.find('#') != std::string_view::npos) bad_path("a request target has no fragment");
  auto q = target.find('?');
  auto path = decode(target.substr(0, q), false);
  if (!path) bad_path("the path is not valid percent-encoded UTF-8");
  out.path = std::move(*path);
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    auto key = decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>("") : decode(pair.substr(eq + 1), true);
    if (!key || !value) bad_query("the query is not valid percent-encoded UTF-8");
    if (!key->empty() && !out.query.emplace(std::move(*key), std::move(*value)).second)
      bad_query("a query parameter appears more than once");
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

}  // namespace byoc::server
