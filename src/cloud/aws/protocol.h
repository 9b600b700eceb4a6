// The AWS wire protocols byoc speaks — `query` (STS, IAM, CloudFormation,
// ELBv2), `ec2` (EC2), `json` (awsJson1.0/1.1: Service Quotas) and
// `rest-json` (EKS) — as pure functions of a ServiceModel: a request's
// parameters to an unsigned HTTP request, and an HTTP answer to its result or
// to an AwsError. No I/O; the official protocol tests
// (tests/aws/vectors/protocols) pin both directions down.
//
// Values in parameters and results are JSON as botocore's tests write them:
// structures are objects keyed by member name, lists arrays, maps objects;
// timestamps are epoch seconds (integer or fractional; a parameter may also
// be an ISO 8601 string with an offset), in years 1-9999; blobs are strings of
// raw bytes (base64 is the wire's business, not the caller's). A blob in a
// result may therefore not be valid UTF-8: dump such a result with
// json::error_handler_t::replace (or hex/base64 the blob first). Every other
// string in a result is valid UTF-8.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cloud/aws/http_message.h"
#include "cloud/aws/model.h"

namespace byoc::aws {

struct SerializeOptions {
  // Fills members marked `idempotencyToken` that the caller left out (a UUID
  // v4 by default). Tests pass a fixed one.
  std::function<std::string()> idempotency_token;
};

// Throws byoc::Error kInvalid (field = the member path, e.g. "Tags[0].Key")
// when `params` doesn't fit the input shape: an unknown member, a wrong type,
// an integer out of its shape's range (integer: int32, long: int64), a null
// list item or map value, a required member missing, an impossible
// timestamp; for rest-json also a URI label that is empty, "." or ".." (or,
// greedy, holds such a segment) and a header name or value that would break
// the header block (CR, LF, NUL).
HttpRequest serialize_request(const ServiceModel& model, std::string_view operation,
                              const nlohmann::json& params, const SerializeOptions& options = {});

// An error the service answered with (any status >= 300, or a 200 carrying
// an error document, as some query APIs do).
struct AwsError {
  int status = 0;
  std::string code;        // "ValidationError", "ThrottlingException"…
  std::string message;
  std::string request_id;  // x-amzn-RequestId / x-amz-request-id / <RequestId>
  // The error shape's members, filled only when the operation's model lists
  // its `errors` and one matches `code`. The protocol vectors' models do; the
  // trimmed models byoc embeds (src/cloud/aws/models/) carry no `errors`, so
  // with them `fields` stays null: rely on `code` and `message`.
  nlohmann::json fields;
};

// What parse_response() gives: a result or an error, never both.
struct ParsedResponse {
  bool ok = false;
  nlohmann::json result;  // the output shape as JSON ({} when the operation has none)
  AwsError error;
};

// Throws byoc::Error kUnavailable when a 2xx body can't be parsed (a truncated
// or foreign answer) or doesn't fit the output shape (a value of the wrong
// type, invalid UTF-8 in a string, an impossible timestamp: "answer does not
// fit the model at <path>"), and for any JSON answer nested deeper than 64
// levels, error or not. Never for an AWS error: that is ParsedResponse::error,
// whose texts are made valid UTF-8 (a foreign body's first 256 bytes, cut on a
// character boundary, invalid bytes replaced by U+FFFD).
ParsedResponse parse_response(const ServiceModel& model, std::string_view operation, const HttpResponse& response);

}  // namespace byoc::aws
