// The plain HTTP request and answer every AWS piece passes around (protocol
// serializers, transport, signer glue), kept apart so that none of them needs
// another's header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace byoc::aws {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The first value of header `name`, compared case-insensitively; nullopt
// when absent.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);
// The same, "" when absent.
inline std::string header_value(const Headers& headers, std::string_view name) {
  return find_header(headers, name).value_or("");
}

// A request as serialized, before an endpoint and a signature are added.
struct HttpRequest {
  std::string method;
  std::string path_and_query;  // "/" or "/clusters/x?include=y", already percent-encoded
  Headers headers;             // Content-Type, X-Amz-Target, members bound to headers…
  std::string body;
  std::string host_prefix;     // an operation's endpoint host prefix, labels filled ("" when none)
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names as received
  std::string body;
};

}  // namespace byoc::aws
