// Checks a parsed request head against the framing rules of RFC 9112 before
// any byte of its body is read: one way to find where the request ends, so
// that nothing a client smuggles after it is ever read as a second request.
// A head that fails is answered with the status given and the connection is
// closed. Pure: no Boost, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::server {

struct HeadField {
  std::string_view name;  // as sent
  std::string_view value;
};

struct RequestHead {
  unsigned version = 11;  // 10 or 11 for HTTP/1.0 and HTTP/1.1
  std::vector<HeadField> fields;
};

struct HeadRejection {
  int status;            // 400, 417, 501 or 505
  std::string code;      // the API error code
  std::string message;
  std::string field;     // the header at fault, if one is
};

// - HTTP/1.0 and HTTP/1.1 only (505).
// - HTTP/1.1 has exactly one Host; HTTP/1.0 at most one (400).
// - Transfer-Encoding: never with Content-Length, never in HTTP/1.0, its
//   last coding chunked and chunked only once (400); any other coding is not
//   implemented (501).
// - Content-Length once, digits only (400).
// - Authorization, Content-Type, Idempotency-Key and Expect at most once and
//   printable ASCII (400); Expect only "100-continue" (417).
std::optional<HeadRejection> check_request_head(const RequestHead& head);

// Whether the head asks for "100 Continue" before its body.
bool expects_continue(const RequestHead& head);

}  // namespace byoc::server
