// JSON bodies (shared with rest-json) and the awsJson 1.0/1.1 protocol
// itself (Service Quotas): POST / with X-Amz-Target naming the operation.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

#include "base/error.h"
#include "cloud/aws/protocol_internal.h"

namespace byoc::aws::detail {

namespace {

json timestamp_to_wire(const Shape& shape, const json& value) {
  Instant t = timestamp_param(value, shape.name());
  const std::string format = shape.text("timestampFormat", "unixTimestamp");
  if (iequals(format, "unixTimestamp")) return json(t.seconds);  // whole seconds, as botocore
  return json(format_timestamp(t, format));
}

json timestamp_from_wire(const json& value, const std::string& path) {
  if (auto t = json_timestamp(value)) return instant_json(*t);
  if (value.is_string()) {
    if (auto t = parse_timestamp(value.get_ref<const std::string&>())) return instant_json(*t);
  }
  misfit(path, "a timestamp (years 1-9999)");
}

std::string member_path(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// The deepest nesting of `body`'s arrays and objects, counted without
// parsing (and so without recursion); stops counting past `limit`.
int nesting_depth(std::string_view body, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

void misfit(const std::string& path, const std::string& expected) {
  throw Error::Unavailable("AWS answer does not fit the model at " + (path.empty() ? std::string("the top") : path) +
                           ": expected " + expected);
}

json to_wire_json(const Shape& shape, const json& value) {
  const std::string& type = shape.type();
  if (type == "structure") {
    if (shape.is_document()) return value;
    json out = json::object();
    const json& members = shape.members();
    for (const auto& [key, member_value] : value.items()) {
      if (member_value.is_null()) continue;
      Shape member(shape.model(), members.at(key));
      out[member.text("locationName", key)] = to_wire_json(member, member_value);
    }
    return out;
  }
  if (type == "list") {
    json out = json::array();
    Shape item = shape.list_member();
    for (const auto& v : value) out.push_back(to_wire_json(item, v));  // no nulls: check_params refuses them
    return out;
  }
  if (type == "map") {
    json out = json::object();
    Shape map_value = shape.map_value();
    for (const auto& [key, v] : value.items()) out[key] = to_wire_json(map_value, v);
    return out;
  }
  if (type == "blob") return to_base64(value.get_ref<const std::string&>());
  if (type == "timestamp") return timestamp_to_wire(shape, value);
  if (type == "string" && !value.is_string()) return value.dump();  // a jsonvalue given as JSON
  return value;
}

json from_wire_json(const Shape& shape, const json& value, const std::string& path) {
  const std::string& type = shape.type();
  if (type == "structure") {
    if (shape.is_document()) return value;  // any JSON (nesting bounded by parse_json_body)
    if (!value.is_object()) misfit(path, "an object");
    json out = json::object();
    for (const auto& [name, ref] : shape.members().items()) {
      Shape member(shape.model(), ref);
      if (member.trait("location")) continue;  // a header or status, not the body's
      auto it = value.find(member.text("locationName", name));
      if (it == value.end() || it->is_null()) continue;
      out[name] = from_wire_json(member, *it, member_path(path, name));
    }
    return out;
  }
  if (type == "list") {
    if (!value.is_array()) misfit(path, "a list");
    json out = json::array();
    Shape item = shape.list_member();
    for (size_t i = 0; i < value.size(); ++i) {
      const json& v = value[i];
      out.push_back(v.is_null() ? json() : from_wire_json(item, v, path + "[" + std::to_string(i) + "]"));
    }
    return out;
  }
  if (type == "map") {
    if (!value.is_object()) misfit(path, "an object (a map)");
    json out = json::object();
    Shape map_value = shape.map_value();
    for (const auto& [key, v] : value.items())
      if (!v.is_null()) out[key] = from_wire_json(map_value, v, member_path(path, key));
    return out;
  }
  if (type == "blob") {
    if (!value.is_string()) misfit(path, "base64 text");
    auto bytes = from_base64(value.get_ref<const std::string&>());
    if (!bytes) misfit(path, "base64 text");
    return *bytes;
  }
  if (type == "timestamp") return timestamp_from_wire(value, path);
  if (type == "string") {
    if (!value.is_string()) misfit(path, "a string");
    return value;
  }
  if (type == "integer" || type == "long" || type == "short" || type == "byte") {
    // Any int64: an answer's integer is taken as wide as it comes.
    if (!value.is_number_integer() ||
        (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
      misfit(path, "an integer");
    return value;
  }
  if (type == "float" || type == "double") {
    if (value.is_number() && std::isfinite(value.get<double>())) return value;
    if (value.is_string()) {
      const std::string& s = value.get_ref<const std::string&>();
      if (s == "NaN" || s == "Infinity" || s == "-Infinity") return value;
    }
    misfit(path, "a number");
  }
  if (type == "boolean") {
    if (!value.is_boolean()) misfit(path, "true or false");
    return value;
  }
  misfit(path, "a value of type " + type);  // a type no AWS model has
}

std::optional<json> parse_json_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  if (nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth)
    throw Error::Unavailable("AWS answer nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  // nlohmann's parser rejects invalid UTF-8 (and lone surrogate escapes), so
  // every string of a parsed body is valid UTF-8.
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::string json_text(const json& value) {
  try {
    return value.dump();
  } catch (const json::type_error&) {
    throw Error::Invalid("invalid_parameter", "a string parameter is not UTF-8 (blobs take any bytes)");
  }
}

AwsError json_error(const HttpResponse& response, const json& body) {
  AwsError error;
  error.status = response.status;
  std::string code = printable_utf8(header_value(response.headers, "x-amzn-ErrorType"));
  if (code.empty() && body.is_object()) {
    for (const char* key : {"code", "__type"})
      if (auto it = body.find(key); it != body.end() && it->is_string()) {
        code = it->get<std::string>();
        break;
      }
  }
  error.code = code.empty() ? std::to_string(response.status) : sanitize_error_code(code);
  if (body.is_object()) {
    for (const char* key : {"message", "Message", "errorMessage"})
      if (auto it = body.find(key); it != body.end() && it->is_string()) {
        error.message = it->get<std::string>();
        break;
      }
  }
  error.request_id = printable_utf8(header_value(response.headers, "x-amzn-RequestId"));
  if (error.request_id.empty()) error.request_id = printable_utf8(header_value(response.headers, "x-amz-request-id"));
  return error;
}

HttpRequest serialize_json(const ServiceModel& model, const json& operation, const json& params) {
  const json& metadata = model.metadata();
  HttpRequest request;
  request.method = operation.contains("http") ? operation["http"].value("method", "POST") : "POST";
  request.path_and_query = "/";
  request.headers.emplace_back("X-Amz-Target",
                               metadata.value("targetPrefix", "") + "." + operation.value("name", ""));
  request.headers.emplace_back("Content-Type", "application/x-amz-json-" + metadata.value("jsonVersion", "1.0"));
  auto input = input_shape(model, operation);
  request.body = input ? json_text(to_wire_json(*input, params)) : "{}";
  return request;
}

ParsedResponse parse_json(const ServiceModel& model, const json& operation, const HttpResponse& response) {
  static const json kNoBody = json::object();
  const std::optional<json> body = parse_json_body(response.body);
  ParsedResponse out;
  if (response.status >= 300) {
    out.error = json_error(response, body ? *body : kNoBody);
    if (auto shape = error_shape(model, operation, out.error.code); shape && body && body->is_object()) {
      try {
        out.error.fields = from_wire_json(*shape, *body);
      } catch (const Error&) {
        // The code and message stand without the modelled fields.
      }
    }
    return out;
  }
  if (!body) throw Error::Unavailable("AWS answer is not JSON");
  out.ok = true;
  auto output = output_shape(model, operation);
  out.result = output ? from_wire_json(*output, *body) : json::object();
  return out;
}

}  // namespace byoc::aws::detail
