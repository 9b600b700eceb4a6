// What the protocol files (protocol*.cc) share and nothing else includes: a
// shape as a member reference sees it, parameter checks, timestamps, and the
// text forms of scalars that query strings, headers and forms use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "cloud/aws/http_message.h"
#include "cloud/aws/model.h"
#include "cloud/aws/protocol.h"

namespace byoc::aws::detail {

using nlohmann::json;

// A shape reached through a reference ({"shape": "X", "locationName": …}).
// As in botocore, the reference's own traits (locationName, flattened,
// location, timestampFormat, xmlNamespace…) win over those of the shape.
class Shape {
 public:
  Shape(const ServiceModel& model, const json& ref);

  const std::string& name() const { return name_; }
  const std::string& type() const;
  // A trait from the reference, else from the shape; nullptr when neither has it.
  const json* trait(std::string_view key) const;
  std::string text(std::string_view key, std::string_view fallback = "") const;
  bool flag(std::string_view key) const;
  const json& definition() const { return *def_; }
  const ServiceModel& model() const { return *model_; }

  // structure
  const json& members() const;  // name -> reference; {} when none
  Shape member(const std::string& name) const { return Shape(*model_, members().at(name)); }
  bool is_document() const { return flag("document"); }
  bool is_union() const { return flag("union"); }
  // list / map
  Shape list_member() const { return Shape(*model_, def_->at("member")); }
  Shape map_key() const { return Shape(*model_, def_->at("key")); }
  Shape map_value() const { return Shape(*model_, def_->at("value")); }

 private:
  const ServiceModel* model_;
  const json* ref_;
  const json* def_;
  std::string name_;
};

// The operation's input/output shape, when it has one.
std::optional<Shape> input_shape(const ServiceModel& model, const json& operation);
std::optional<Shape> output_shape(const ServiceModel& model, const json& operation);

// ASCII case-insensitive equality (header names, timestamp formats).
bool iequals(std::string_view a, std::string_view b);
// `s` without leading and trailing white space.
std::string_view trim(std::string_view s);
// `bytes` as UTF-8 fit to show: invalid bytes replaced by U+FFFD, cut to at
// most `max_bytes` on a character boundary.
std::string printable_utf8(std::string_view bytes, size_t max_bytes = std::string::npos);

// How deep a JSON answer may nest: deeper is no AWS answer, and copying or
// walking it would recurse once per level.
inline constexpr int kMaxJsonDepth = 64;

// A point in time to the microsecond, as AWS timestamps carry at most that.
// Every Instant the protocols make lies in years 1-9999.
using Instant = byoc::UnixTime;

// A timestamp parameter: epoch seconds (integer or fractional) or ISO 8601
// with an offset. Throws kInvalid with `path` as the field otherwise.
Instant timestamp_param(const json& value, const std::string& path);
// A JSON number as epoch seconds; nullopt when not a number or out of range.
std::optional<Instant> json_timestamp(const json& value);
// "iso8601" | "unixTimestamp" | "rfc822", compared case-insensitively.
std::string format_timestamp(Instant t, std::string_view format);
// Epoch seconds, ISO 8601 (any offset, any fraction) or an HTTP date;
// impossible dates and years outside 1-9999 give nullopt.
std::optional<Instant> parse_timestamp(std::string_view text);
// Epoch seconds as a result value: an integer, or a double with a fraction.
json instant_json(Instant t);

// The text form of a scalar in a query string, header, label or form:
// booleans "true"/"false", numbers shortest round-trip, strings as given
// (float members may be the strings "NaN", "Infinity", "-Infinity").
std::string scalar_text(const json& value);

// Checks `value` against the shape: unknown members, wrong JSON types,
// integers out of their shape's range, null list items and map values,
// missing required members. Throws kInvalid with field = the member path.
void check_params(const Shape& shape, const json& value, const std::string& path);

// The input parameters with null members dropped and absent idempotency
// tokens filled in.
json prepared_params(const Shape& input, const json& params, const SerializeOptions& options);

// The operation's endpoint host prefix with its {labels} filled from
// hostLabel members; "" when the operation has none.
std::string host_prefix(const json& operation, const json& params);

// base64 of raw bytes; and back, tolerating line breaks, with nullopt for
// anything else that is not base64.
std::string to_base64(std::string_view bytes);
std::optional<std::string> from_base64(std::string_view text);

// A scalar's text (from XML or a header) as the shape's type says: numbers,
// booleans, timestamps, blobs (base64), strings (valid UTF-8). nullopt when
// it doesn't fit.
std::optional<json> scalar_from_text(const Shape& shape, std::string_view text);

// Error codes arrive as "Code", "ns#Code", "Code:uri" or "ns#Code:uri".
std::string sanitize_error_code(std::string_view code);
// The operation's modelled error whose name or `error.code` is `code`.
std::optional<Shape> error_shape(const ServiceModel& model, const json& operation, std::string_view code);

// Per protocol (protocol_query.cc, protocol_json.cc, protocol_rest_json.cc).
HttpRequest serialize_query(const ServiceModel& model, const json& operation, const json& params, bool ec2);
ParsedResponse parse_query(const ServiceModel& model, const json& operation, const HttpResponse& response, bool ec2);
HttpRequest serialize_json(const ServiceModel& model, const json& operation, const json& params);
ParsedResponse parse_json(const ServiceModel& model, const json& operation, const HttpResponse& response);
HttpRequest serialize_rest_json(const ServiceModel& model, const json& operation, const json& params);
ParsedResponse parse_rest_json(const ServiceModel& model, const json& operation, const HttpResponse& response);

// JSON bodies, shared by json and rest-json: a structure's params as the
// wire JSON, and a wire JSON value back as the shape's result. The latter
// checks every value's JSON type against the shape and throws kUnavailable
// ("answer does not fit the model at <path>") on a mismatch.
json to_wire_json(const Shape& shape, const json& value);
json from_wire_json(const Shape& shape, const json& value, const std::string& path = "");
// Throws kUnavailable: the answer does not fit the model at `path`.
[[noreturn]] void misfit(const std::string& path, const std::string& expected);
// A JSON body's text; kInvalid when a string in it is not UTF-8.
std::string json_text(const json& value);
// A JSON body: {} for an empty one; nullopt when it is not JSON. Throws
// kUnavailable when it nests deeper than kMaxJsonDepth.
std::optional<json> parse_json_body(std::string_view body);
// A JSON protocol error (json and rest-json): code from X-Amzn-ErrorType or
// the body's code/__type, message from message/Message. `fields` is left to
// the caller.
AwsError json_error(const HttpResponse& response, const json& body);

}  // namespace byoc::aws::detail
