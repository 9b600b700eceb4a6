// AWS Signature Version 4: the signing of one HTTP request with an access key,
// as every AWS API (STS, CloudFormation, EKS, S3) requires. Pure: no I/O and no
// clock — the signing time is a parameter, so a signature is a function of its
// inputs and the official test suites (tests/aws/vectors/sigv4) pin it down.
//
// Two forms: the header form (X-Amz-Date, X-Amz-Security-Token and
// Authorization headers added) and the presigned form (X-Amz-* query
// parameters appended, `expires_seconds` > 0). Every intermediate value —
// canonical request, string to sign, signature — is returned, because a
// SignatureDoesNotMatch from AWS is only diagnosable by comparing them.
//
// Also here: a reader and a writer of the plain HTTP/1.1 text form the suites
// use (`.req` / `request.txt`), which `byoc aws sign-request` reads too.
// All functions are thread-safe; bad input throws byoc::Error (kInvalid).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace byoc::aws {

// One HTTP request as it will be sent. Headers keep their order and their
// values as written (a folded multi-line value keeps its line breaks), so the
// signed request differs from the input only by what signing adds.
struct SigningRequest {
  std::string method;
  std::string path_and_query;  // raw, as on the request line ("/a b/?x=1")
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// What goes in the canonical request's last line.
enum class PayloadHash {
  kBody,                // SHA-256 of the body
  kBodyInHeader,        // the same, also sent and signed as x-amz-content-sha256 (S3; header form only)
  kUnsignedPayload,     // the literal UNSIGNED-PAYLOAD (S3 streaming, presigned URLs)
};

struct SigningParams {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty: long-term credentials
  std::string region;
  std::string service;
  TimePoint time;
  // Remove dot segments and collapse repeated slashes in the canonical URI,
  // and percent-encode the path once more (the wire path is already encoded,
  // AWS signs its encoding). S3 wants both off: it signs the path as sent.
  bool normalize_path = true;
  bool double_encode_path = true;
  PayloadHash payload = PayloadHash::kBody;
  // Send the session token but leave it out of what is signed (some services
  // — IoT, and the suites' post-sts-header-after — add it after signing).
  bool omit_session_token = false;
  // > 0: the presigned (query) form, valid for this many seconds.
  int64_t expires_seconds = 0;
};

struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // lowercase hex
  std::string authorization;   // the Authorization header value (header form; empty when presigned)
  SigningRequest signed_request;
};

SigningResult sign(const SigningRequest& request, const SigningParams& params);

// "20150830T123600Z", the ISO 8601 basic form SigV4 uses.
std::string amz_date(TimePoint time);
// Parses "20150830T123600Z" or "2015-08-30T12:36:00Z"; nullopt if neither.
std::optional<TimePoint> parse_amz_date(std::string_view text);

// RFC 3986 percent-encoding with AWS's unreserved set (A-Z a-z 0-9 - . _ ~),
// uppercase hex; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view bytes, bool keep_slash);

// The canonical parts, exposed for tests and diagnostics.
std::string canonical_uri(std::string_view path, bool normalize, bool double_encode);
std::string canonical_query(std::string_view query);  // without the '?'

// The suites' HTTP text: a request line "METHOD target HTTP/1.1" (the target
// may contain spaces), header lines "Name:value" (a line starting with a space
// or tab continues the previous value), a blank line, then the body. Lines end
// in "\n" or "\r\n"; the blank line and body may be absent.
SigningRequest parse_http_request(std::string_view text);
// The inverse, as aws-c-auth writes its signed requests: "Name:value" lines,
// "\n" line ends, then a blank line and the body.
std::string format_http_request(const SigningRequest& request);

}  // namespace byoc::aws
